import Foundation

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
