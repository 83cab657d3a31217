import Foundation
import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing
@testable import KafkaTapeTestSupport

/// Captures are never lost or replaced by accident, damaged ones are read past, and every error is
/// one line: the kafkatape binary as a process, with no broker (the upstream is a closed port; no
/// client connects).
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: Harness.kafkatape), "needs the kafkatape binary"))
struct CommandLineSafetyTests {
    static func startRecorder(_ capture: String, extra: [String] = []) throws -> Daemon {
        let daemon = try Daemon(
            Harness.kafkatape, ["record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--out", capture] + extra)
        _ = try daemon.waitFor(#"listening on 127\.0\.0\.1:(\d+)"#)
        return daemon
    }

    static func directory(of path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)) ?? []).sorted()
    }

    static func writeSmallCapture(_ path: String, frames: Int = 40, payloadBytes: Int = 300) throws -> [Int] {
        let clock = ManualCaptureClock()
        let writer = try CaptureWriter(
            path: path, header: CaptureHeader(toolVersion: "test", startTime: clock.now(), listenAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2"))
        var offsets: [Int] = [Int(writer.bytesWritten)]
        for i in 0..<frames {
            clock.advance(by: 1000)
            // ApiVersions v0 requests and responses: decodable, one exchange per pair.
            var payload = ByteBuffer()
            if i % 2 == 0 {
                payload.writeInteger(Int16(18))
                payload.writeInteger(Int16(0))
                payload.writeInteger(Int32(i / 2))
                payload.writeInteger(Int16(-1))
            } else {
                payload.writeInteger(Int32(i / 2))
                payload.writeInteger(Int16(0))
                payload.writeInteger(Int32(0))
            }
            payload.writeRepeatingByte(0, count: max(0, payloadBytes - payload.readableBytes))
            let record = CaptureRecord.frame(
                FrameRecord(time: clock.now(), connectionId: 1, direction: i % 2 == 0 ? .request : .response, payload: payload))
            try writer.append(record)
            offsets.append((offsets.last ?? 0) + record.encodedSize)
        }
        try writer.close()
        return offsets
    }

    static func setLength(_ path: String, at offset: Int, to length: UInt32) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[offset] = UInt8(length >> 24)
        bytes[offset + 1] = UInt8((length >> 16) & 0xFF)
        bytes[offset + 2] = UInt8((length >> 8) & 0xFF)
        bytes[offset + 3] = UInt8(length & 0xFF)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    // MARK: - 1. One writer per capture; a failed start changes nothing

    @Test func aSecondRecorderOnTheSamePathIsRefusedWithOrWithoutOverwrite() throws {
        let capture = Harness.tempPath("locked.ktape")
        let first = try Self.startRecorder(capture)
        defer { first.stop() }
        for extra in [[], ["--overwrite"]] {
            let second = try Harness.run(
                Harness.kafkatape, ["record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--out", capture] + extra, timeout: 30)
            #expect(second.status == 2, "\(extra): \(second.stderr)")
            let lines = second.stderr.split(separator: "\n")
            #expect(lines.count == 1, "one line: \(second.stderr)")
            #expect(second.stderr.contains("--out \(capture): another kafkatape is recording to it"), "\(second.stderr)")
        }
        #expect(first.stop() == 0)
        // The first recorder's capture is whole, and nothing else is left in the directory.
        let (_, reader) = try Harness.readCapture(capture)
        #expect(reader.tornTail == nil)
        #expect(Self.directory(of: capture) == ["locked.ktape"])
    }

    @Test func aFailedStartWithOverwriteLeavesTheOldCaptureUntouched() throws {
        let capture = Harness.tempPath("old.ktape")
        _ = try Self.writeSmallCapture(capture)
        let before = try Data(contentsOf: URL(fileURLWithPath: capture))
        let taken = try LoopbackSocket(listening: true)
        defer { taken.close() }
        let r = try Harness.run(
            Harness.kafkatape,
            ["record", "--listen", "127.0.0.1:\(taken.port)", "--upstream", "127.0.0.1:1", "--out", capture, "--overwrite"], timeout: 30)
        #expect(r.status == 2)
        #expect(r.stderr.contains("cannot listen on 127.0.0.1:\(taken.port)"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: capture)) == before, "the old capture is unchanged")
        #expect(Self.directory(of: capture) == ["old.ktape"], "no temporary file left")
    }

    @Test func aFailedStartLeavesNoStubAndTheRetryWorks() throws {
        let capture = Harness.tempPath("retry.ktape")
        let taken = try LoopbackSocket(listening: true)
        let r = try Harness.run(
            Harness.kafkatape, ["record", "--listen", "127.0.0.1:\(taken.port)", "--upstream", "127.0.0.1:1", "--out", capture], timeout: 30)
        taken.close()
        #expect(r.status == 2)
        #expect(Self.directory(of: capture).isEmpty, "nothing left: \(Self.directory(of: capture))")
        let retry = try Self.startRecorder(capture)
        #expect(retry.stop() == 0)
        #expect(Self.directory(of: capture) == ["retry.ktape"])
    }

    @Test func overwriteReplacesTheOldCaptureOnceListening() throws {
        let capture = Harness.tempPath("replaced.ktape")
        _ = try Self.writeSmallCapture(capture)
        let oldId = try CaptureReader(path: capture).header.captureId
        let recorder = try Self.startRecorder(capture, extra: ["--overwrite"])
        // Listening: the new capture is in place already (not only at the end).
        let newId = try CaptureReader(path: capture).header.captureId
        #expect(newId != oldId)
        #expect(recorder.stop() == 0)
        #expect(try CaptureReader(path: capture).header.captureId == newId)
        #expect(Self.directory(of: capture) == ["replaced.ktape"])
    }

    // MARK: - 2. Declared lengths and corruption

    /// A 16 KB capture whose middle record declares 1 GiB, read with 1 GiB less address space than
    /// that would need: the record is skipped, nothing is allocated for it, the rest is printed.
    @Test func aRecordDeclaringOneGibibyteIsReadUnderAMemoryLimit() throws {
        let capture = Harness.tempPath("liar.ktape")
        let offsets = try Self.writeSmallCapture(capture, frames: 48, payloadBytes: 320)
        #expect((offsets.last ?? 0) < 20_000)
        let clean = try Harness.run(Harness.kafkatape, ["dump", capture])
        try Self.setLength(capture, at: offsets[10], to: 1 << 30)
        for command in [["dump"], ["dump", "--json"], ["stats"], ["check"], ["pcap", "export"]] {
            var args = command + [capture]
            if command == ["pcap", "export"] { args.append(Harness.tempPath("liar.pcap")) }
            // 640 MB of address space: the binary needs a few hundred; a 1 GiB buffer cannot fit.
            let quoted = args.map { "'\($0)'" }.joined(separator: " ")
            let r = try Harness.run("/bin/sh", ["-c", "ulimit -v 655360; exec '\(Harness.kafkatape)' \(quoted)"], timeout: 60)
            #expect(r.status == 2, "\(command): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("corruption at offset \(offsets[10])"), "\(command): \(r.stderr)")
            #expect(r.stderr.contains("damaged: 1 corrupt span"), "\(command): \(r.stderr)")
        }
        // Only the exchange that lost its request is missing.
        let damaged = try Harness.run(Harness.kafkatape, ["dump", capture])
        let cleanLines = clean.stdout.split(separator: "\n")
        let damagedLines = damaged.stdout.split(separator: "\n")
        #expect(cleanLines.count == 24)
        #expect(damagedLines.count == 24, "the response whose request was lost is listed as unmatched")
        #expect(damaged.stdout.contains("#23 ApiVersions v0"), "records after the damage are read")
    }

    /// The same claim in the last record is an interrupted write: a warning, exit 0.
    @Test func aTornTailStaysAWarning() throws {
        let capture = Harness.tempPath("torn.ktape")
        let offsets = try Self.writeSmallCapture(capture)
        try Self.setLength(capture, at: offsets[offsets.count - 2], to: 1 << 30)
        let r = try Harness.run(Harness.kafkatape, ["dump", capture])
        #expect(r.status == 0)
        #expect(r.stderr.contains("torn tail at offset \(offsets[offsets.count - 2])"))
    }

    /// A bit flip in the middle of a curated real capture: every command reads past it and exits 2.
    @Test func aBitFlipInARealCaptureIsReadPastByEveryCommand() throws {
        let source = Harness.root.appendingPathComponent("captures/schema-registry-clean/session.ktape").path
        let capture = Harness.tempPath("flipped.ktape")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: source)))
        let middle = bytes.count / 2
        bytes[middle] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: capture))
        let clean = try Harness.run(Harness.kafkatape, ["dump", source])
        let r = try Harness.run(Harness.kafkatape, ["dump", capture])
        #expect(r.status == 2)
        #expect(r.stderr.contains("corruption at offset"))
        #expect(r.stderr.contains("resumed at offset"))
        // At most the exchange hit by the flip differs; the last lines are there.
        #expect(r.stdout.split(separator: "\n").count >= clean.stdout.split(separator: "\n").count - 2)
        #expect(clean.stdout.split(separator: "\n").last == r.stdout.split(separator: "\n").last)
        for command in [["stats"], ["check"], ["diff", source]] {
            let out = try Harness.run(Harness.kafkatape, command + [capture])
            #expect(out.status == 2, "\(command): \(out.stderr)")
            #expect(out.stderr.contains("damaged"), "\(command): \(out.stderr)")
        }
    }

    // MARK: - 4. One line per error

    @Test func argumentErrorsAreOneLinePlusAHint() throws {
        let cases: [([String], String)] = [
            (["record", "--out", "x.ktape"], "record: "),
            (["dump"], "dump: "),
            (["pcap", "export", "--mss", "1", "a", "b"], "pcap export: "),
            (["stats", "--no-such-flag", "x"], "stats: "),
        ]
        for (args, prefix) in cases {
            let r = try Harness.run(Harness.kafkatape, args)
            #expect(r.status == 2, "\(args): \(r.status)")
            let lines = r.stderr.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(args): \(r.stderr)")
            #expect(lines.first?.hasPrefix("kafkatape: \(prefix)") == true, "\(args): \(r.stderr)")
            #expect(lines.last == "kafkatape: see 'kafkatape \(prefix.dropLast(2)) --help'", "\(args): \(r.stderr)")
        }
    }

    @Test func pathsAppearOnceAndPermissionProblemsSaySo() throws {
        let missing = "/nonexistent-dir/capture.ktape"
        let r = try Harness.run(Harness.kafkatape, ["dump", missing])
        #expect(r.status == 2)
        #expect(r.stderr.components(separatedBy: missing).count == 2, "the path once: \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        // Root reads everything: as root, the command runs as nobody (setpriv), in a directory nobody
        // can traverse to a file it may not read.
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard getuid() != 0 || setpriv != nil else { return }
        let dir = "/tmp/kafkatape-perm-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let unreadable = dir + "/private.ktape"
        _ = try Self.writeSmallCapture(unreadable)
        chmod(unreadable, 0)
        let denied = getuid() == 0
            ? try Harness.run(setpriv ?? "", ["--reuid=65534", "--regid=65534", "--clear-groups", Harness.kafkatape, "dump", unreadable])
            : try Harness.run(Harness.kafkatape, ["dump", unreadable])
        #expect(denied.status == 2)
        #expect(denied.stderr == "kafkatape: \(unreadable): open failed: permission denied (errno 13)\n", "\(denied.stderr)")
    }

    @Test func diffJunitRefusesToReplaceAFile() throws {
        let capture = Harness.tempPath("same.ktape")
        _ = try Self.writeSmallCapture(capture)
        let junit = Harness.tempPath("report.xml")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: junit))
        let r = try Harness.run(Harness.kafkatape, ["diff", capture, capture, "--junit", junit])
        #expect(r.status == 2)
        #expect(r.stderr == "kafkatape: --junit \(junit): file exists (use --overwrite to replace it)\n")
        #expect(try String(contentsOfFile: junit, encoding: .utf8) == "keep me")
        let replaced = try Harness.run(Harness.kafkatape, ["diff", capture, capture, "--junit", junit, "--overwrite"])
        #expect(replaced.status == 0)
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains("<testsuite"))
    }

    /// An output written at the end of long work (diff's, matrix's and report's pages, diff's JUnit) is
    /// refused before the work when it could not be written after it: a folder that does not exist, a
    /// directory in its place, a file without --overwrite. matrix's target is a closed port: had the
    /// replay run first, stderr would say so.
    @Test func outputsThatCannotBeWrittenAreRefusedBeforeTheWork() throws {
        let capture = Harness.tempPath("outputs.ktape")
        _ = try Self.writeSmallCapture(capture)
        let missing = "/nonexistent-dir-\(UUID().uuidString)"
        let directory = Harness.tempPath("a-directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let existing = Harness.tempPath("existing.html")
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: existing))
        let cases: [([String], String)] = [
            (["diff", capture, capture, "--html", "\(missing)/d.html"], "--html \(missing)/d.html: the folder \(missing) does not exist"),
            (["diff", capture, capture, "--junit", directory], "--junit \(directory): is a directory"),
            (["matrix", capture, "--target", "a=127.0.0.1:1", "--html", "\(missing)/m.html"],
             "--html \(missing)/m.html: the folder \(missing) does not exist"),
            (["matrix", capture, "--target", "a=127.0.0.1:1", "--html", existing],
             "--html \(existing): file exists (use --overwrite to replace it)"),
            (["report", capture, "--out", directory], "--out \(directory): is a directory"),
            (["report", capture, "--out", "\(missing)/r.html"], "--out \(missing)/r.html: the folder \(missing) does not exist"),
        ]
        for (args, message) in cases {
            let r = try Harness.run(Harness.kafkatape, args, timeout: 30)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr == "kafkatape: \(message)\n", "\(args)")
            #expect(r.stdout.isEmpty, "\(args): \(r.stdout)")
        }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")
        // With --overwrite an existing page is replaced, and a page in an existing folder is written.
        let replaced = try Harness.run(Harness.kafkatape, ["diff", capture, capture, "--html", existing, "--overwrite"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try String(contentsOfFile: existing, encoding: .utf8).contains("<html"))
    }

    /// --metrics on a non-loopback address is warned about like --listen. 192.0.2.1 (TEST-NET-1) is
    /// not an address of this machine, so the bind fails and nothing is served.
    @Test func metricsOnANonLoopbackAddressWarns() throws {
        let r = try Harness.run(
            Harness.kafkatape, ["record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--no-capture", "--metrics", "192.0.2.1:0"],
            timeout: 30)
        #expect(r.status == 2)
        #expect(r.stderr.contains("warning: --metrics on 192.0.2.1:0, not loopback"), "\(r.stderr)")
        #expect(r.stderr.contains("cannot serve metrics on 192.0.2.1:0"), "\(r.stderr)")
    }

    // MARK: - 5. dump and stats

    @Test func dumpJsonEventsInterleavesKindTaggedObjects() throws {
        let path = Harness.tempPath("events.ktape")
        let clock = ManualCaptureClock()
        let writer = try CaptureWriter(
            path: path, header: CaptureHeader(toolVersion: "test", startTime: clock.now(), listenAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2"))
        for conn in [UInt64(1), 2] {
            try writer.append(
                .connectionOpened(
                    ConnectionOpenedRecord(
                        time: clock.now(), connectionId: conn, clientAddress: "127.0.0.1:5000\(conn)", listenerAddress: "127.0.0.1:1",
                        upstreamAddress: "127.0.0.1:2", nodeId: -1, role: "proxy")))
        }
        // Connection 1: a Metadata v0 exchange (correlation 5) with a rewrite event; connection 2: ApiVersions.
        var metadata = ByteBuffer()
        metadata.writeInteger(Int16(3)); metadata.writeInteger(Int16(0)); metadata.writeInteger(Int32(5)); metadata.writeInteger(Int16(-1))
        metadata.writeInteger(Int32(0))
        try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .request, payload: metadata)))
        var metadataResponse = ByteBuffer()
        metadataResponse.writeInteger(Int32(5)); metadataResponse.writeInteger(Int32(0)); metadataResponse.writeInteger(Int32(0))
        try writer.append(.event(EventRecord(time: clock.now(), connectionId: 1, kind: .rewrite, message: "rewrote", attributes: [.init("correlationId", "5")])))
        try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .response, payload: metadataResponse)))
        var versions = ByteBuffer()
        versions.writeInteger(Int16(18)); versions.writeInteger(Int16(0)); versions.writeInteger(Int32(9)); versions.writeInteger(Int16(-1))
        try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 2, direction: .request, payload: versions)))
        try writer.append(.event(EventRecord(time: clock.now(), connectionId: 2, kind: .fault, message: "delayed", attributes: [.init("apiKey", "18")])))
        try writer.append(.connectionClosed(ConnectionClosedRecord(time: clock.now(), connectionId: 2, closedBy: .client, reason: "EOF")))
        try writer.close()

        let all = try Harness.run(Harness.kafkatape, ["dump", "--json", "--events", path])
        #expect(all.status == 0, "\(all.stderr)")
        let objects = try all.stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(objects.map { $0["kind"] as? String ?? "?" } == [
            "connectionOpened", "connectionOpened", "event", "exchange", "event", "connectionClosed", "exchange",
        ])
        #expect(objects[2]["eventKind"] as? String == "rewrite")
        #expect((objects[2]["attributes"] as? [[String]])?.first == ["correlationId", "5"])
        // Without --events: exchanges only, as before, with no kind.
        let plain = try Harness.run(Harness.kafkatape, ["dump", "--json", path])
        #expect(plain.stdout.split(separator: "\n").count == 2)
        #expect(!plain.stdout.contains("\"kind\""))
        // --api applies to events: the rewrite (correlation 5 on connection 1 is Metadata) and nothing else.
        let metadataOnly = try Harness.run(Harness.kafkatape, ["dump", path, "--api", "Metadata"])
        let lines = metadataOnly.stdout.split(separator: "\n")
        #expect(lines.count == 2, "\(metadataOnly.stdout)")
        #expect(lines.first?.contains("rewrite: rewrote") == true)
        #expect(lines.last?.contains("Metadata v0") == true)
        // --connection applies to events: connection 2's open, fault, close and its exchange.
        let second = try Harness.run(Harness.kafkatape, ["dump", path, "--connection", "2"])
        #expect(second.stdout.split(separator: "\n").count == 4, "\(second.stdout)")
        #expect(!second.stdout.contains("conn 1"))
        #expect(Set(try Harness.run(Harness.kafkatape, ["dump", path, "--api", "ApiVersions"]).stdout.split(separator: "\n").map { $0.contains("fault") }) == [true, false])
        // stats: the ApiVersions request whose connection closed is unanswered, not an error.
        let stats = try Harness.run(Harness.kafkatape, ["stats", path])
        let row = try #require(stats.stdout.split(separator: "\n").first { $0.hasPrefix("ApiVersions(18)") })
        #expect(row.hasSuffix("1           -"), "UNANSWERED 1, ERRORS -: \(row)")
        #expect(stats.stdout.contains("unanswered: 1 (connection closed before the response: client gone), 0 (capture ended"))
    }

    /// stats' percentiles come from a fixed-size histogram (memory does not grow with the exchanges):
    /// within 0.4% of the exact nearest-rank value, the maximum exact.
    @Test func statsPercentilesAreWithinTheHistogramsPrecision() throws {
        let path = Harness.tempPath("latency.ktape")
        let clock = ManualCaptureClock()
        let writer = try CaptureWriter(
            path: path, header: CaptureHeader(toolVersion: "test", startTime: clock.now(), listenAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2"))
        // 200 ApiVersions v0 exchanges taking 1, 2, ... 200 ms, in shuffled order.
        var rng = SystemRandomNumberGenerator()
        for (i, ms) in Array(1...200).shuffled(using: &rng).enumerated() {
            var request = ByteBuffer()
            request.writeInteger(Int16(18)); request.writeInteger(Int16(0)); request.writeInteger(Int32(i)); request.writeInteger(Int16(-1))
            try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .request, payload: request)))
            clock.advance(by: UInt64(ms) * 1_000_000)
            var response = ByteBuffer()
            response.writeInteger(Int32(i)); response.writeInteger(Int16(0)); response.writeInteger(Int32(0))
            try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .response, payload: response)))
        }
        try writer.close()
        let r = try Harness.run(Harness.kafkatape, ["stats", "--json", path])
        #expect(r.status == 0, "\(r.stderr)")
        let top = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let api = try #require((top["apis"] as? [[String: Any]])?.first)
        let p50 = try #require(api["latencyP50Ns"] as? Int)
        let p99 = try #require(api["latencyP99Ns"] as? Int)
        #expect(abs(Double(p50) - 100e6) <= 100e6 / 256, "p50 \(p50)")
        #expect(abs(Double(p99) - 198e6) <= 198e6 / 256, "p99 \(p99)")
        #expect(api["latencyMaxNs"] as? Int == 200_000_000)
    }

    /// A closed stderr (`2>&-`, a daemon started without one) must not turn an error into a crash:
    /// Foundation's `FileHandle.standardError.write` ends the process with SIGILL (132) when the write
    /// fails, and every error message went through it.
    @Test func anErrorWithStderrClosedStillExitsTwo() throws {
        let r = try Harness.run("/bin/sh", ["-c", "\"$0\" dump /nonexistent/capture.ktape 2>&-; echo \"status $?\"", Harness.kafkatape])
        #expect(r.stdout.contains("status 2"), "stdout: \(r.stdout) stderr: \(r.stderr)")
    }
}
