import Foundation
import Testing
@testable import KafkaTapeTestSupport

/// Every numeric option of every command, given hostile values (huge, negative, infinite, not a
/// number, out of every integer range): each command must either take the value or refuse it with
/// exit 2 and one line on stderr, never trap (a signal) or hang. The commands are set up to stop on
/// their own right after using the option (an unreachable target, a taken port, a missing folder).
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary"))
struct OptionFuzzTests {
    static let hostile = [
        "0", "-1", "1", "-0", "65536", "1e308", "-1e308", "inf", "-inf", "nan", "9223372036854775807", "9223372036854775808",
        "-9223372036854775809", "18446744073709551616", "0.000000001", "1e-300", "", " ", "abc", "0x10", "1_000", "+5",
    ]

    static var capture: String { Harness.root.appendingPathComponent("captures/schema-registry-clean/session.ktape").path }

    /// (name, arguments with "{}" where the value goes).
    static func templates(taken: Int, dir: String) -> [(String, [String])] {
        let missing = dir + "/no-such-folder/x.ktape"
        let record = ["record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--out", missing]
        let replay = ["replay", capture, "--target", "127.0.0.1:1"]
        let matrix = ["matrix", capture, "--target", "a=127.0.0.1:1"]
        let serve = ["serve", capture, "--listen", "127.0.0.1:\(taken)"]
        return [
            ("record --max-frame-bytes", record + ["--max-frame-bytes", "{}"]),
            ("record --rotate-bytes", record + ["--rotate-bytes", "{}"]),
            ("record --seed", record + ["--seed", "{}"]),
            ("record --max-buffered-bytes", record + ["--max-buffered-bytes", "{}"]),
            ("record --frame-timeout", record + ["--frame-timeout", "{}"]),
            ("record --idle-timeout", record + ["--idle-timeout", "{}"]),
            ("record --flush-interval", record + ["--flush-interval", "{}"]),
            ("record --ring-bytes", record + ["--ring-bytes", "{}", "--trigger", "disconnect"]),
            ("record --node-port", record + ["--node-port", "1={}"]),
            ("record --upstream-node", record + ["--upstream-node", "{}=127.0.0.1:2"]),
            ("record --fault delay", record + ["--fault", "delay:Fetch:{}"]),
            ("record --fault error", record + ["--fault", "error:Fetch:6:{}"]),
            ("record --fault hwm-minus", record + ["--fault", "hwm-minus:{}"]),
            ("record --trigger latency", record + ["--ring-bytes", "4096", "--trigger", "latency:{}"]),
            ("record --listen port", ["record", "--listen", "127.0.0.1:{}", "--upstream", "127.0.0.1:1", "--out", missing]),
            ("replay --timeout", replay + ["--timeout", "{}"]),
            ("replay --pace", replay + ["--pace", "{}"]),
            ("replay --connection", replay + ["--connection", "{}"]),
            ("replay --target-node", replay + ["--target-node", "*=127.0.0.1:{}"]),
            ("matrix --timeout", matrix + ["--timeout", "{}"]),
            ("matrix --pace", matrix + ["--pace", "{}"]),
            ("serve --node-port", serve + ["--node-port", "111={}"]),
            ("check --fetch-margin-ms", ["check", capture, "--fetch-margin-ms", "{}"]),
            ("check --fetch-prompt-ms", ["check", capture, "--fetch-prompt-ms", "{}"]),
            ("check --max-findings", ["check", capture, "--max-findings", "{}"]),
            ("report --max-findings", ["report", capture, "--check", "--out", dir + "/report-{}.html", "--overwrite", "--max-findings", "{}"]),
            ("dump --connection", ["dump", capture, "--connection", "{}"]),
            ("pcap export --mss", ["pcap", "export", capture, dir + "/out-{}.pcap", "--mss", "{}"]),
            ("pcap import --max-frame-bytes", ["pcap", "import", dir + "/missing.pcap", dir + "/x.ktape", "--max-frame-bytes", "{}"]),
            ("sniff --duration", ["sniff", "--interface", "kafkatape-no-such-interface", "--out", missing, "--duration", "{}"]),
        ]
    }

    @Test func numericOptionsNeverTrapOrHang() throws {
        let held = try LoopbackSocket(listening: true)
        defer { held.close() }
        let dir = Harness.tempPath("fuzz")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var runs = 0
        var refused = 0
        for (name, template) in Self.templates(taken: held.port, dir: dir) {
            for value in Self.hostile {
                let args = template.map { $0.replacingOccurrences(of: "{}", with: value) }
                let p = Process()
                p.executableURL = URL(fileURLWithPath: Harness.kafkatape)
                p.arguments = args
                p.standardOutput = FileHandle.nullDevice
                let err = Pipe()
                p.standardError = err
                p.standardInput = FileHandle.nullDevice
                try p.run()
                let collector = OutputCollector()
                collector.collect(FileHandle(forReadingAtPath: "/dev/null") ?? FileHandle.nullDevice, err.fileHandleForReading)
                let deadline = Date().addingTimeInterval(20)
                while p.isRunning && Date() < deadline { usleep(5_000) }
                let hung = p.isRunning
                if hung {
                    p.interrupt()
                    usleep(500_000)
                    if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                }
                p.waitUntilExit()
                collector.wait()
                runs += 1
                #expect(!hung, "\(name) '\(value)' did not finish within 20 s")
                #expect(p.terminationReason == .exit, "\(name) '\(value)' died of signal \(p.terminationStatus): \(collector.stderr.suffix(600))")
                #expect([0, 1, 2].contains(p.terminationStatus), "\(name) '\(value)' exited \(p.terminationStatus)")
                if p.terminationStatus == 2 {
                    refused += 1
                    #expect(!collector.stderr.isEmpty, "\(name) '\(value)': exit 2 without a word on stderr")
                }
            }
        }
        #expect(runs == Self.templates(taken: 0, dir: dir).count * Self.hostile.count)
        #expect(refused > runs / 2, "most of these values are nonsense and must be refused")
    }
}
