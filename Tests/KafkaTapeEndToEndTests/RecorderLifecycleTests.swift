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

    /// SIGTERM stops `record` as gracefully as SIGINT (its ServiceGroup traps both), and `--metrics`
    /// serves the proxy's counters from the binary while it runs.
    @Test func sigtermStopsGracefullyAndMetricsAreServedMeanwhile() throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("sigterm.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture, extra: ["--metrics", "127.0.0.1:0"])
        let metricsPort = try #require(Int(try recorder.daemon.waitFor(#"metrics: http://127\.0\.0\.1:(\d+)/metrics"#)))
        _ = try RecordEndToEndTests.runClient(Self.assign, bootstrap: "127.0.0.1:\(recorder.port)", topic: "sigterm")
        let text = try Self.scrape(port: metricsPort)
        #expect(text.hasPrefix("HTTP/1.1 200 OK"), "\(text.prefix(200))")
        #expect(text.contains(#"kafkatape_requests_total{api="Produce",api_key="0",api_version="#), "\(text)")
        #expect(text.contains(#"kafkatape_request_latency_seconds_count{api="Fetch",api_key="1"}"#), "\(text)")
        #expect(text.contains("# TYPE kafkatape_connections_total counter"))
        let written = text.split(separator: "\n").first { $0.hasPrefix("kafkatape_capture_bytes_written_total ") }
        #expect((written?.split(separator: " ").last.flatMap { Int($0) } ?? 0) > 0, "\(text)")
        let status = recorder.daemon.stop(signal: SIGTERM)
        #expect(status == 0, "\(recorder.daemon.collector.stderr)")
        #expect(recorder.daemon.collector.stderr.contains("recording: SIGINT/SIGTERM, stopping"))
        #expect(recorder.daemon.collector.stdout.contains("Produce(0): "))
        #expect(recorder.daemon.collector.stdout.contains("capture: \(capture)"))
        let dump = try Harness.run(Harness.kafkatape, ["dump", capture])
        #expect(dump.status == 0)
        #expect(!dump.stderr.contains("torn"))
    }

    /// GET /metrics over a plain socket; the server closes after the answer (`Connection: close`).
    static func scrape(port: Int) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = LoopbackSocket.address(port: port)
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestFailure("cannot connect to the metrics port \(port)") }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var text = ""
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            text += String(decoding: buf[0..<n], as: UTF8.self)
        }
        return text
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
