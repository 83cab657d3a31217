import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// `record --ring-bytes N --trigger SPEC`: only connections where something went wrong reach the capture.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct FlightRecorderEndToEndTests {
    static var script: String { FaultEndToEndTests.script }

    func session(_ extra: [String]) throws -> (records: [CaptureRecord], summary: String, client: Int32) {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("flight.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture, extra: extra)
        let r = try Harness.run(Harness.python, [Self.script, "values", "127.0.0.1:\(recorder.port)", "flight"], timeout: 60)
        let (status, summary) = recorder.stop()
        #expect(status == 0)
        return (try Harness.readCapture(capture).records, summary, r.status)
    }

    @Test func aCleanSessionLeavesNoTrafficInTheCapture() throws {
        let (records, summary, client) = try session(["--ring-bytes", "65536", "--trigger", "error-code", "--trigger", "latency:5000"])
        #expect(client == 0)
        #expect(!records.contains { if case .frame = $0 { return true } else { return false } })
        #expect(summary.contains("flight-recorder triggers: 0"))
    }

    @Test func anErrorCodeWritesThatConnectionsRingAndWhatFollows() throws {
        let (records, summary, client) = try session([
            "--ring-bytes", "65536", "--trigger", "error-code:36", "--fault", "error:CreateTopics:36",
        ])
        #expect(client != 0, "the client saw TOPIC_ALREADY_EXISTS")
        #expect(summary.contains("flight-recorder triggers: 1"))
        let trigger = try #require(records.compactMap { r -> EventRecord? in
            if case .event(let e) = r, e.kind == "trigger" { return e } else { return nil }
        }.first)
        let conn = try #require(trigger.connectionId)
        #expect(trigger.message.contains("TOPIC_ALREADY_EXISTS"))
        // The ring holds the connection from its start: opened, ApiVersions, Metadata, CreateTopics.
        let frames = records.compactMap { if case .frame(let f) = $0 { return f } else { return nil } }
        #expect(frames.allSatisfy { $0.connectionId == conn }, "only the triggering connection is recorded")
        let keys = frames.filter { $0.direction == .request }.compactMap { KafkaRequestPrefix(payload: $0.payload)?.apiKey }
        #expect(keys.contains(19))
        #expect(records.contains { if case .connectionOpened(let o) = $0 { return o.connectionId == conn } else { return false } })
        let exchanges = ExchangeTracker.pair(records)
        #expect(exchanges.contains { if case .exchange(let e) = $0 { return e.apiKey == 19 && e.response != nil } else { return false } })
    }

    @Test func badTriggerArgumentsAreUsageErrors() throws {
        for args in [["--trigger", "disconnect"], ["--ring-bytes", "65536"], ["--ring-bytes", "65536", "--trigger", "check:I7"]] {
            let r = try Harness.run(Harness.kafkatape, ["record", "--upstream", "127.0.0.1:1", "--out", Harness.tempPath("x.ktape")] + args, timeout: 20)
            #expect(r.status == 2, "\(args): \(r.stderr)")
        }
    }
}
