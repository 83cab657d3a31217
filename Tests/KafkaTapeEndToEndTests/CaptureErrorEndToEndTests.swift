import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// `record --on-capture-error`: the capture's disk fills up mid-session. Recording stops with a clear
/// error, what was written stays readable, and forwarding continues or stops as the option says. The
/// full disk is a 4 KiB tmpfs when this process may mount one (root with CAP_SYS_ADMIN); the same
/// session also runs under a 4 KiB file-size limit (`ulimit -f`), which needs no privileges. Where
/// mounting is not allowed the full-disk cases are not listed (the file-size cases still run).
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct CaptureErrorEndToEndTests {
    enum Limit: String, CustomTestStringConvertible, CaseIterable, Sendable {
        case fullDisk, fileSizeLimit
        var testDescription: String { rawValue }
        var expectedError: String { self == .fullDisk ? "No space left on device" : "File too large" }
    }

    /// A 4 KiB tmpfs, mounted for the duration of `body`, or nil when mounting is not allowed here.
    static func withFullDisk<T>(_ body: (String) throws -> T) throws -> T? {
        let dir = Harness.tempPath("disk")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let mount = try Harness.run("/bin/mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", dir])
        guard mount.status == 0 else { return nil }
        defer { _ = try? Harness.run("/bin/umount", ["-l", dir]) }
        return try body(dir)
    }

    static let canMount: Bool = (try? withFullDisk { _ in true }) == true

    struct Outcome {
        var recorder: Recorder
        var client: Daemon
        var capture: String
    }

    /// Starts a broker, a recorder writing into a place with 4 KiB of room, and the kafka-python session.
    static func session(_ limit: Limit, policy: String, _ body: (Outcome) throws -> Void) throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        func run(_ dir: String, _ shell: String?) throws {
            let capture = dir + "/capture.ktape"
            let recorder = try Recorder(upstream: broker.port, capture: capture, extra: ["--on-capture-error", policy], shell: shell)
            let client = try Daemon(Harness.python, [Harness.clientScript, "kafka-python", "127.0.0.1:\(recorder.port)", "full", "none", "assign"])
            defer { client.stop(signal: SIGKILL) }
            try body(Outcome(recorder: recorder, client: client, capture: capture))
        }
        switch limit {
        case .fullDisk:
            guard try withFullDisk({ try run($0, nil) }) != nil else {
                throw TestFailure("cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)")
            }
        case .fileSizeLimit:
            let dir = Harness.tempPath("limited")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try run(dir, #"ulimit -f 8 && exec "$@""#)  // 8 blocks of 512 bytes
        }
    }

    /// Every complete record before the failed write reads back; frames were recorded.
    static func expectReadable(_ capture: String) throws {
        let (records, _) = try Harness.readCapture(capture)
        #expect(records.contains { if case .frame = $0 { return true } else { return false } })
        let size = (try FileManager.default.attributesOfItem(atPath: capture)[.size] as? NSNumber)?.intValue ?? 0
        #expect(size <= 4096)
        let dump = try Harness.run(Harness.kafkatape, ["dump", capture])
        #expect(dump.status == 0, "dump: \(dump.stderr.suffix(500))")
        #expect(dump.stdout.contains("ApiVersions v"))
    }

    static func enabled(_ limit: Limit) -> Bool { limit == .fileSizeLimit || canMount }

    @Test(arguments: Limit.allCases.filter(enabled))
    func continueKeepsForwardingUnrecorded(_ limit: Limit) throws {
        try Self.session(limit, policy: "continue") { s in
            // The client's whole session goes through, long after the capture stopped.
            let status = s.client.process.waitFor(timeout: 90)
            s.client.collector.wait()
            #expect(status == 0, "client: \(s.client.collector.stderr.suffix(800))")
            let out = s.client.collector.stdout.split(separator: "\n").last.map(String.init) ?? ""
            let consumed = (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])?["consumed"] as? [Any]
            #expect(consumed?.count == 20, "client output: \(out.prefix(300))")
            let stopped = try s.recorder.daemon.waitFor(#"error: recording stopped: .*(write failed: [^;\n]*)"#)
            #expect(stopped.contains(limit.expectedError), "recorder: \(s.recorder.daemon.collector.stderr)")
            #expect(s.recorder.daemon.collector.stderr.contains("forwarding continues without capture"))
            // SIGINT: the summary counts every request forwarded; the exit status says the capture is incomplete.
            let (status2, summary) = s.recorder.stop()
            #expect(status2 == 2)
            #expect(summary.contains("Fetch(1): 1"), "summary: \(summary)")
            #expect(s.recorder.daemon.collector.stderr.contains("incomplete"))
            try Self.expectReadable(s.capture)
        }
    }

    @Test(arguments: Limit.allCases.filter(enabled))
    func stopEndsTheProxy(_ limit: Limit) throws {
        try Self.session(limit, policy: "stop") { s in
            // The recorder stops on its own, with the reason, and no longer accepts connections.
            let status = s.recorder.daemon.process.waitFor(timeout: 60)
            #expect(status == 2)
            let stderr = s.recorder.daemon.collector.stderr
            #expect(stderr.contains("stopping the proxy (--on-capture-error stop)"), "recorder: \(stderr)")
            #expect(stderr.contains(limit.expectedError))
            #expect(stderr.contains("stopped because the capture could not be written"))
            #expect(!Harness.canConnect(port: s.recorder.port))
            try Self.expectReadable(s.capture)
        }
    }
}

extension Process {
    /// Waits up to `timeout` seconds for exit; kills the process past it. Returns the exit status.
    func waitFor(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning && Date() < deadline { usleep(20_000) }
        if isRunning { kill(processIdentifier, SIGKILL) }
        waitUntilExit()
        return terminationStatus
    }
}
