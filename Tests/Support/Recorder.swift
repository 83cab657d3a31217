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

/// `kafkatape serve CAPTURE` as a mock broker on a free loopback port.
final class ServeDaemon {
    let daemon: Daemon
    let port: Int

    init(capture: String, extra: [String] = []) throws {
        daemon = try Daemon(Harness.kafkatape, ["serve", capture, "--listen", "127.0.0.1:0"] + extra)
        guard let p = Int(try daemon.waitFor(#"listening on 127\.0\.0\.1:(\d+)"#)) else { throw TestFailure("serve did not start") }
        port = p
    }

    /// Everything it printed: the miss report and summary.
    var output: String { daemon.stdout + daemon.stderr }

    /// SIGINT (SIGKILL after 5 s).
    func stop() { daemon.stop(signal: SIGINT, timeout: 5) }
}
