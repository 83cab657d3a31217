import Foundation
import KafkaCapture
import KafkaPcap
import Testing
@testable import KafkaTapeTestSupport

/// The `pcap` and `sniff` commands as a user runs them: help text, summaries, and bad input giving a
/// one-line message and exit status 2 while keeping everything decodable before the damage.
@Suite(.enabled(if: Repo.kafkatape != nil, "needs the kafkatape binary (swift build)"))
struct CLITests {
    var kafkatape: String { Repo.kafkatape ?? "kafkatape" }

    func expectUsageError(_ r: ProcessOutput, contains text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit status \(r.status), stderr: \(r.stderr)", sourceLocation: sourceLocation)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "expected one line on stderr, got: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(text), "stderr lacks '\(text)': \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func helpDescribesTheCommands() async throws {
        let pcap = try await Harness.runAsync(kafkatape, ["pcap", "--help"])
        #expect(pcap.stdout.contains("export") && pcap.stdout.contains("import"))
        let imp = try await Harness.runAsync(kafkatape, ["pcap", "import", "--help"])
        for option in ["--port", "--max-frame-bytes", "--overwrite", "pcapng", "SLL2"] {
            #expect(imp.stdout.contains(option), "pcap import --help lacks \(option)")
        }
        let exp = try await Harness.runAsync(kafkatape, ["pcap", "export", "--help"])
        #expect(exp.stdout.contains("--mss") && exp.stdout.contains("tshark"))
        let sniff = try await Harness.runAsync(kafkatape, ["sniff", "--help"])
        for option in ["--interface", "--port", "--out", "--duration", "CAP_NET_RAW"] {
            #expect(sniff.stdout.contains(option), "sniff --help lacks \(option)")
        }
    }

    @Test func importAndExportPrintTheirSummaries() async throws {
        try await withTemporaryDirectory { dir in
            let imp = try await Harness.runAsync(kafkatape, ["pcap", "import", "\(Repo.fixtures)/kafka-python-lo.pcap", "\(dir)/a.ktape"])
            #expect(imp.status == 0, "\(imp.stderr)")
            for field in ["connections: 6", "frames: 30 (15 requests, 15 responses, 0 truncated)", "gaps: 0", "bytes skipped: 0", "detected: 39092", "MB/s"] {
                #expect(imp.stdout.contains(field), "import output lacks '\(field)': \(imp.stdout)")
            }
            #expect(imp.stderr.isEmpty, "no progress display when stderr is not a terminal")
            let exp = try await Harness.runAsync(kafkatape, ["pcap", "export", "\(dir)/a.ktape", "\(dir)/b.pcap"])
            #expect(exp.status == 0, "\(exp.stderr)")
            #expect(exp.stdout.contains("flows: 6") && exp.stdout.contains("frames: 30"))
            #expect(exp.stdout.contains("-d tcp.port==39092,kafka"))
            // dump and stats read imported captures like any other.
            let dump = try await Harness.runAsync(kafkatape, ["dump", "\(dir)/a.ktape"])
            #expect(dump.status == 0 && dump.stdout.contains("Produce"))
            let stats = try await Harness.runAsync(kafkatape, ["stats", "\(dir)/a.ktape"])
            #expect(stats.status == 0 && stats.stdout.contains("connections: 6, exchanges: 15"))
        }
    }

    @Test func truncatedPcapKeepsEverythingBeforeTheDamage() async throws {
        try await withTemporaryDirectory { dir in
            let whole = try Data(contentsOf: URL(fileURLWithPath: "\(Repo.fixtures)/kafka-python-lo.pcap"))
            let cut = "\(dir)/cut.pcap"
            try whole.prefix(whole.count * 6 / 10).write(to: URL(fileURLWithPath: cut))
            let r = try await Harness.runAsync(kafkatape, ["pcap", "import", cut, "\(dir)/cut.ktape"])
            expectUsageError(r, contains: "truncated")
            #expect(r.stderr.contains("everything before it was imported"))
            #expect(r.stdout.contains("frames:"))
            let full = "\(dir)/full.ktape"
            _ = try PcapImport.run(input: "\(Repo.fixtures)/kafka-python-lo.pcap", output: full)
            let kept = captureRequests(try readCapture("\(dir)/cut.ktape")).values.flatMap { $0 }
            let all = captureRequests(try readCapture(full)).values.flatMap { $0 }
            #expect(!kept.isEmpty && kept.count < all.count)
            #expect(Set(kept).isSubset(of: Set(all)))
        }
    }

    @Test func notAPcapFile() async throws {
        try await withTemporaryDirectory { dir in
            let bogus = "\(dir)/notes.txt"
            try Data("these are notes, not packets\n".utf8).write(to: URL(fileURLWithPath: bogus))
            let r = try await Harness.runAsync(kafkatape, ["pcap", "import", bogus, "\(dir)/x.ktape"])
            expectUsageError(r, contains: "not a pcap or pcapng file")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.ktape"))
            let missing = try await Harness.runAsync(kafkatape, ["pcap", "import", "\(dir)/nope.pcap", "\(dir)/y.ktape"])
            expectUsageError(missing, contains: "nope.pcap: no such file or directory")
            #expect(!missing.stderr.contains("not a pcap"))
            let export = try await Harness.runAsync(kafkatape, ["pcap", "export", bogus, "\(dir)/z.pcap"])
            expectUsageError(export, contains: "not a KafkaTape capture")
        }
    }

    /// A pcap the user may not read is a permission problem, not "not a pcap file". As root the test
    /// runs the command as nobody (setpriv), since root reads everything.
    @Test(.enabled(if: !Repo.isRoot || Repo.setpriv != nil, "needs setpriv to run as another user as root"))
    func unreadablePcapSaysPermissionDenied() async throws {
        // Under /tmp with world-traversable directories, so that nobody reaches the file.
        let dir = "/tmp/kafkatape-perm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pcap = "\(dir)/private.pcap"
        let writer = try PcapFileWriter(path: pcap)
        try writer.close()
        chmod(pcap, 0o000)
        let args = ["pcap", "import", pcap, "\(dir)/x.ktape"]
        let r = Repo.isRoot
            ? try await Harness.runAsync(try #require(Repo.setpriv), ["--reuid=65534", "--regid=65534", "--clear-groups", kafkatape] + args)
            : try await Harness.runAsync(kafkatape, args)
        expectUsageError(r, contains: "\(pcap): permission denied")
        #expect(!r.stderr.contains("not a pcap"))
    }

    @Test func unsupportedLinkType() async throws {
        try await withTemporaryDirectory { dir in
            let wifi = "\(dir)/wifi.pcap"
            let writer = try PcapFileWriter(path: wifi, linkType: PcapLinkType(rawValue: 105))
            writer.write(timestampNs: 1_000_000_000, bytes: Array(repeating: 0, count: 64))
            try writer.close()
            let r = try await Harness.runAsync(kafkatape, ["pcap", "import", wifi, "\(dir)/x.ktape"])
            expectUsageError(r, contains: "unsupported link type IEEE802_11 (105)")
        }
    }

    @Test func outputsAreNeverReplacedWithoutOverwrite() async throws {
        try await withTemporaryDirectory { dir in
            let out = "\(dir)/a.ktape"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: out))
            let r = try await Harness.runAsync(kafkatape, ["pcap", "import", "\(Repo.fixtures)/kafka-python-lo.pcap", out])
            expectUsageError(r, contains: "file exists")
            #expect(try String(contentsOfFile: out, encoding: .utf8) == "keep me")
            let again = try await Harness.runAsync(kafkatape, ["pcap", "import", "--overwrite", "\(Repo.fixtures)/kafka-python-lo.pcap", out])
            #expect(again.status == 0)
            let pcap = "\(dir)/b.pcap"
            try Data("keep me".utf8).write(to: URL(fileURLWithPath: pcap))
            expectUsageError(try await Harness.runAsync(kafkatape, ["pcap", "export", out, pcap]), contains: "file exists")
        }
    }

    @Test func sniffOnAMissingInterface() async throws {
        try await withTemporaryDirectory { dir in
            let r = try await Harness.runAsync(kafkatape, ["sniff", "--interface", "kt-nosuch0", "--out", "\(dir)/s.ktape", "--duration", "1"])
            expectUsageError(r, contains: "kt-nosuch0")
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/s.ktape"))
        }
    }

    /// Without CAP_NET_RAW (dropped from the bounding set, or simply not root) sniff says what it needs.
    @Test(.enabled(if: !Repo.isRoot || Repo.setpriv != nil, "needs setpriv to drop capabilities as root"))
    func sniffWithoutCapturePrivileges() async throws {
        try await withTemporaryDirectory { dir in
            let args = ["sniff", "--interface", "lo", "--out", "\(dir)/s.ktape", "--duration", "1"]
            let r = Repo.isRoot
                ? try await Harness.runAsync(try #require(Repo.setpriv), ["--bounding-set=-net_raw,-net_admin", kafkatape] + args)
                : try await Harness.runAsync(kafkatape, args)
            expectUsageError(r, contains: "no permission to capture")
            #expect(r.stderr.contains("CAP_NET_RAW"))
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/s.ktape"))
        }
    }
    /// --duration ends a capture that sees no packet at all (libpcap's own timeout would not).
    @Test(.enabled(if: Repo.isRoot, "needs capture privileges"), .timeLimit(.minutes(1)))
    func sniffStopsAfterItsDurationEvenWhenNothingArrives() async throws {
        try await withTemporaryDirectory { dir in
            // A sniff that ignored --duration would run until `run` gives up after 20 s and fail the test;
            // how much sooner it stops is the machine's business (it took 10.8 s on a loaded CI machine).
            let r = try await Harness.runAsync(kafkatape, ["sniff", "--interface", "lo", "--port", "\(Harness.freePort())", "--out", "\(dir)/s.ktape", "--duration", "0.5"], timeout: 20)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("connections: 0"))
            #expect(try readCapture("\(dir)/s.ktape").isEmpty)
        }
    }
}
