import Foundation

/// `kafkatape record` in front of an upstream.
final class Recorder {
    let daemon: Daemon
    let port: Int
    let capture: String

    /// `shell`, when given, is a /bin/sh script run in front of the recorder (which it must `exec "$@"`),
    /// e.g. to set a resource limit.
    init(upstream: Int, capture: String, listenPort: Int = 0, extra: [String] = [], shell: String? = nil) throws {
        self.capture = capture
        let args = ["record", "--listen", "127.0.0.1:\(listenPort)", "--upstream", "127.0.0.1:\(upstream)", "--out", capture] + extra
        daemon = try shell.map { try Daemon("/bin/sh", ["-c", $0, "sh", Harness.kafkatape] + args) }
            ?? Daemon(Harness.kafkatape, args)
        guard let p = Int(try daemon.waitFor(#"listening on 127\.0\.0\.1:(\d+)"#)) else { throw TestFailure("no proxy port") }
        port = p
    }

    /// SIGINT, then the summary on stdout.
    func stop() -> (status: Int32, summary: String) {
        let status = daemon.stop(signal: SIGINT)
        return (status, daemon.collector.stdout)
    }
}
