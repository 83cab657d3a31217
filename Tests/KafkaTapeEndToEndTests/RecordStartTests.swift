import Foundation
import Testing
@testable import KafkaTapeTestSupport

/// `record` as a process, before any traffic: a `--node-port` that cannot be bound stops the start
/// (exit 2, the reason on stderr) instead of letting clients bypass the proxy later; the resource
/// options are documented with their defaults.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: Harness.kafkatape), "needs the kafkatape binary"))
struct RecordStartTests {
    @Test func aTakenNodePortStopsTheStartWithExitTwo() throws {
        let taken = try LoopbackSocket(listening: true)
        defer { taken.close() }
        let r = try Harness.run(
            Harness.kafkatape,
            ["record", "--upstream", "127.0.0.1:1", "--no-capture", "--listen", "127.0.0.1:0", "--node-port", "1=\(taken.port)"],
            timeout: 30)
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot listen for node 1 on port \(taken.port) (--node-port)"), "stderr: \(r.stderr)")
    }

    @Test func badResourceOptionsAreRefused() throws {
        for args in [["--frame-timeout", "-1"], ["--idle-timeout", "nan"], ["--max-buffered-bytes", "-5"], ["--flush-interval", "11"], ["--flush-interval=-0.5"]] {
            let r = try Harness.run(Harness.kafkatape, ["record", "--upstream", "127.0.0.1:1", "--no-capture"] + args, timeout: 30)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(args[0].split(separator: "=")[0]), "\(args): \(r.stderr)")
        }
    }

    @Test func helpDocumentsTheBoundsAndNodePortRules() throws {
        let r = try Harness.run(Harness.kafkatape, ["record", "--help"])
        #expect(r.status == 0)
        let help = r.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        for expected in [
            "--max-buffered-bytes", "(default: 268435456)", "--frame-timeout", "(default: 30.0)", "--idle-timeout",
            "(default: 600.0)", "node-port-fallback", "1001", "--flush-interval", "(default: 0.005)",
        ] {
            #expect(help.contains(expected), "record --help lacks \(expected)")
        }
    }
}
