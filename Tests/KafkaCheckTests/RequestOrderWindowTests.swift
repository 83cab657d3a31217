import KafkaCapture
import KafkaProtocol
import Testing

@testable import KafkaCheck

/// The engine's bounded request-order window.
@Suite struct RequestOrderWindowTests {
    @Test func aStuckRequestDoesNotHoldBackTheCapture() throws {
        let b = CaptureBuilder()
        b.request(2, 3, 12, Msg.metadataRequest(["t"]))  // never answered, connection stays open
        for i in 0..<50 { b.produce([Rec("k", String(repeating: "v", count: 1_000))], base: Int64(i)) }
        let engine = CheckEngine(configuration: CheckConfiguration(), invariants: nil, window: RequestOrderWindow(maxHeldBytes: 10_000))
        var seenBeforeEnd = 0
        for r in b.records {
            engine.process(r)
        }
        seenBeforeEnd = engine.model.entries(TopicPartition("t", 0)).count
        #expect(seenBeforeEnd >= 40)
        let report = engine.finish()
        #expect(report.isClean)
        #expect(report.statistics.exchanges == 3 + 1 + 50)
        #expect(report.notes.contains { $0.contains("out of request order") })
    }

    @Test func strictOrderWhenNothingIsStuck() {
        let b = CaptureBuilder()
        let slow = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        b.produce([Rec("k", "v")], base: 0)
        b.response(2, slow, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        var window = RequestOrderWindow()
        var order: [Int16] = []
        for r in b.records {
            for case .exchange(let e) in window.process(r) { order.append(e.apiKey) }
        }
        for case .exchange(let e) in window.finish() { order.append(e.apiKey) }
        #expect(order == [18, 18, 3, 3, 0])
        #expect(window.forcedReleases == 0)
    }
}
