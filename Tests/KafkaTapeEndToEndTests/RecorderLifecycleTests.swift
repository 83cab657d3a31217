import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// The recorder as a process: SIGINT shutdown, kill -9 mid-session, rotation, bad arguments.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct RecorderLifecycleTests {
    static let assign = RecordEndToEndTests.Session(library: "librdkafka", codec: "none", mode: "assign")

    @Test func sigintFlushesTheCaptureAndPrintsASummary() throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("sigint.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture)
        _ = try RecordEndToEndTests.runClient(Self.assign, bootstrap: "127.0.0.1:\(recorder.port)", topic: "lifecycle")
        let (status, summary) = recorder.stop()
        #expect(status == 0)
        #expect(summary.contains("connections:"))
        #expect(summary.contains("Produce(0): "))
        #expect(summary.contains("Fetch(1): "))
        #expect(summary.contains("capture: \(capture)"))
        let attributes = try FileManager.default.attributesOfItem(atPath: capture)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let dump = try Harness.run(Harness.kafkatape, ["dump", capture])
        #expect(dump.status == 0)
        #expect(dump.stdout.contains("Produce v"))
        #expect(!dump.stderr.contains("torn"))
        let stats = try Harness.run(Harness.kafkatape, ["stats", "--json", capture])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("\"apiName\":\"Produce\""))
    }

    @Test func killDashNineLeavesEveryCompleteRecordReadable() throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("killed.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture)
        _ = try RecordEndToEndTests.runClient(Self.assign, bootstrap: "127.0.0.1:\(recorder.port)", topic: "killed")
        recorder.daemon.stop(signal: SIGKILL)
        // Whatever reached the file is readable; a torn tail is reported, not fatal.
        let (records, _) = try Harness.readCapture(capture)
        #expect(records.contains { if case .frame = $0 { return true } else { return false } })
        // Simulate the write that kill -9 interrupted: cut the last record in half.
        let size = try FileManager.default.attributesOfItem(atPath: capture)[.size] as? NSNumber
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: capture))
        try handle.truncate(atOffset: UInt64((size?.intValue ?? 8) - 7))
        try handle.close()
        let (after, reader) = try Harness.readCapture(capture)
        #expect(reader.tornTail != nil)
        #expect(after.count == records.count - 1)
        let dump = try Harness.run(Harness.kafkatape, ["dump", capture])
        #expect(dump.status == 0)
        #expect(dump.stderr.contains("torn"), "dump should report the torn tail: \(dump.stderr)")
        #expect(dump.stdout.contains("ApiVersions v"))
    }

    @Test func rotationWritesSegmentsReadAsOneCapture() throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("rotated.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture, extra: ["--rotate-bytes", "4096"])
        _ = try RecordEndToEndTests.runClient(Self.assign, bootstrap: "127.0.0.1:\(recorder.port)", topic: "rotated")
        #expect(recorder.stop().status == 0)
        #expect(FileManager.default.fileExists(atPath: capture + ".1"))
        #expect(FileManager.default.fileExists(atPath: capture + ".2"))
        let (records, reader) = try Harness.readCapture(capture)
        #expect(reader.segmentPaths.count >= 3)
        #expect(reader.tornTail == nil)
        let events = ExchangeTracker.pair(records)
        var produce = 0
        var fetchedRecords = 0
        for case .exchange(let e) in events {
            if e.apiKey == 0 { produce += 1 }
            if e.apiKey == 1, case .success(let r)? = DecodedExchange(e).response, let fetch = r.body as? FetchResponse {
                for t in fetch.responses {
                    for p in t.partitions {
                        if let b = p.records { fetchedRecords += (try? KafkaRecords.decode(b))?.records.count ?? 0 }
                    }
                }
            }
        }
        #expect(produce >= 1)
        #expect(fetchedRecords == 20, "all 20 records the consumer read are in the rotated capture")
    }

    @Test func badArgumentsExitWithTwoAndOneLine() throws {
        let existing = Harness.tempPath("exists.ktape")
        FileManager.default.createFile(atPath: existing, contents: Data("x".utf8))
        let cases: [[String]] = [
            ["record", "--upstream", "nonsense", "--out", Harness.tempPath("a.ktape")],
            ["record", "--upstream", "127.0.0.1:1", "--out", existing],
            ["record", "--upstream", "127.0.0.1:1", "--out", Harness.tempPath("b.ktape"), "--node-port", "x"],
            ["dump", existing],
            ["dump", "/nonexistent/capture.ktape"],
            ["stats", existing],
            ["dump", existing, "--api", "NoSuchApi"],
        ]
        for args in cases {
            let r = try Harness.run(Harness.kafkatape, args, timeout: 20)
            #expect(r.status == 2, "\(args): exit \(r.status), stderr \(r.stderr)")
            #expect(!r.stderr.isEmpty)
        }
    }
}
