import Foundation

/// A local S3 endpoint (moto_server) with an empty bucket `tansu`, through tools/kafkatape_testkit.py.
final class MotoServer {
    let daemon: Daemon
    let endpoint: String

    init() throws {
        daemon = try Daemon(Harness.python, [Harness.testkit, "moto"])
        endpoint = try daemon.waitFor(#"^(http://127\.0\.0\.1:\d+)\s*$"#, inStderr: false, timeout: 30)
    }

    func stop() { daemon.stop(signal: SIGTERM, closeStdin: true) }
}
