import Foundation

/// A broker for one test from tools/kafkatape_testkit.py's `broker` command: Tansu, or a whole SeaweedFS
/// cluster with its Kafka gateway and a stand-in Schema Registry, on 127.0.0.1 (free ports unless `port`
/// is given), stopped by PID. Driven over stdin: `restart` (graceful) and `crash` (SIGKILL) bring it back
/// on the same port and data.
final class TestBroker: @unchecked Sendable {
    enum Kind: String { case tansu, seaweedfs }

    let kind: Kind
    let version: String?
    let daemon: Daemon
    private(set) var port: Int
    private var readyLines = 0

    /// The weed binaries tools/setup installs.
    static func weedInstalled(_ version: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: Harness.root.appendingPathComponent(".venv/seaweedfs/\(version)/weed").path)
    }

    /// `s3Endpoint` (a `MotoServer`'s) makes Tansu keep its data there instead of in memory, so that a
    /// new broker on the same endpoint sees it; `advertisedPort` is the port Tansu's Metadata names.
    init(_ kind: Kind = .tansu, version: String? = nil, port requested: Int? = nil, s3Endpoint: String? = nil, advertisedPort: Int? = nil)
        throws
    {
        self.kind = kind
        self.version = version
        var args = [Harness.testkit, "broker", "--kind", kind.rawValue]
        if let version { args += ["--version", version] }
        if let requested { args += ["--port", String(requested)] }
        if let advertisedPort { args += ["--advertised-port", String(advertisedPort)] }
        if let s3Endpoint { args += ["--s3-endpoint", s3Endpoint] }
        daemon = try Daemon(Harness.python, args)
        port = 0
        port = try waitReady()
    }

    var bootstrap: String { "127.0.0.1:\(port)" }

    /// Where to connect for every node, whatever the gateway advertises (SeaweedFS says 127.0.0.1:9093).
    var nodeOverride: String { "*=127.0.0.1:\(port)" }

    private func waitReady(timeout: TimeInterval = 150) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let lines = daemon.collector.stdout.split(separator: "\n")
            if let error = lines.first(where: { $0.hasPrefix("error:") }) {
                throw TestFailure("\(kind.rawValue) \(version ?? ""): \(error); stderr: \(daemon.collector.stderr.suffix(2000))")
            }
            let ready = lines.filter { $0.hasPrefix("ready ") }
            if ready.count > readyLines, let last = ready.last, let p = last.split(separator: ":").last.flatMap({ Int($0) }) {
                readyLines = ready.count
                return p
            }
            if !daemon.process.isRunning { break }
            usleep(50_000)
        }
        throw TestFailure("\(kind.rawValue) \(version ?? "") did not come up: \(daemon.collector.stderr.suffix(2000))")
    }

    private func command(_ c: String) throws {
        daemon.send(c)
        let p = try waitReady()
        guard p == port else { throw TestFailure("\(kind.rawValue) came back on port \(p), not \(port)") }
    }

    /// SIGTERM everything, wait, start again on the same ports and data.
    func restart() throws { try command("restart") }

    /// SIGKILL everything, start again on the same ports and data.
    func crash() throws { try command("crash") }

    func stop() { daemon.stop(signal: SIGTERM, timeout: 60, closeStdin: true) }
}
