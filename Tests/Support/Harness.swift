import Foundation
import KafkaCapture
import KafkaProtocol

/// Where things are for the tests of every target: the package root, the kafkatape binary, the .venv
/// Python with the clients and the broker launcher, system tools, temporary paths; and the kafkatape
/// command lines several suites run (replay then diff, check --json).
enum Harness {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The kafkatape binary: next to the test bundle, else .build/debug (may not exist; see `kafkatapeIfBuilt`).
    static var kafkatape: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kafkatape").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return root.appendingPathComponent(".build/debug/kafkatape").path
    }

    /// The kafkatape binary when it has been built, for suites that are skipped without it.
    static var kafkatapeIfBuilt: String? { FileManager.default.isExecutableFile(atPath: kafkatape) ? kafkatape : nil }

    /// `KAFKATAPE_PYTHON`, else the worktree's .venv, else the system Python.
    static var python: String {
        if let p = ProcessInfo.processInfo.environment["KAFKATAPE_PYTHON"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let venv = root.appendingPathComponent(".venv/bin/python3").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/python3"
    }

    /// The .venv Python (or `KAFKATAPE_PYTHON`) only: the one with the Kafka clients and Tansu installed.
    static var venvPython: String? {
        let path = ProcessInfo.processInfo.environment["KAFKATAPE_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python3").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// tools/kafkatape_testkit.py: starts Tansu, SeaweedFS and moto for the tests.
    static var testkit: String { root.appendingPathComponent("tools/kafkatape_testkit.py").path }

    static var clientScript: String {
        root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/session.py").path
    }

    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: kafkatape) && FileManager.default.isExecutableFile(atPath: python)
    }

    /// Whether the .venv has Python and a Tansu binary (what `TestBroker(.tansu)` needs).
    static let tansuAvailable: Bool = {
        guard let python = venvPython else { return false }
        return (try? run(python, [testkit, "find-tansu"], timeout: 20))?.status == 0
    }()

    /// A system tool (`tshark`, `tcpdump`, ...) from the usual directories, or nil.
    static func tool(_ name: String) -> String? {
        for dir in ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"] {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    static let isRoot = geteuid() == 0

    /// A fresh directory under the system temp dir (left behind for post-mortems).
    static func tempDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// `name` in a fresh temporary directory.
    static func tempPath(_ name: String) -> String {
        tempDirectory().appendingPathComponent(name).path
    }

    /// `kafkatape replay CAPTURE --target 127.0.0.1:PORT --out REPLAYED` (which must succeed), then
    /// `kafkatape diff CAPTURE REPLAYED`. Returns the replayed capture's path and diff's result.
    static func replayAndDiff(_ capture: String, targetPort: Int) throws -> (replayed: String, diff: ProcessOutput) {
        let replayed = tempPath("replayed.ktape")
        let replay = try run(kafkatape, ["replay", capture, "--target", "127.0.0.1:\(targetPort)", "--out", replayed], timeout: 120)
        guard replay.status == 0 else { throw TestFailure("replay exited \(replay.status): \(replay.stderr.suffix(800))") }
        return (replayed, try run(kafkatape, ["diff", capture, replayed], timeout: 120))
    }

    /// Findings by invariant id (all of them, beyond --max-findings too) from `kafkatape check --json`.
    static func checkCounts(_ capture: String, skip: [String] = []) throws -> (status: Int32, counts: [String: Int]) {
        let r = try run(kafkatape, ["check", "--json", capture] + skip.flatMap { ["--skip", $0] }, timeout: 60)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
            let summary = obj["summary"] as? [String: Any], let counts = summary["byInvariant"] as? [String: Int]
        else { throw TestFailure("check printed no JSON (exit \(r.status)): \(r.stdout.prefix(300)) \(r.stderr.prefix(300))") }
        return (r.status, counts)
    }

    /// Reads every record of a capture.
    static func readCapture(_ path: String) throws -> (records: [CaptureRecord], reader: CaptureReader) {
        let reader = try CaptureReader(path: path)
        var records: [CaptureRecord] = []
        while let r = try reader.next() { records.append(r) }
        return (records, reader)
    }
}
