import Testing

@testable import KafkaProxy

@Suite struct CorrelationTrackerTests {
    func pending(_ id: Int32, key: Int16 = 3) -> CorrelationTracker.Pending {
        .init(correlationId: id, apiKey: key, apiVersion: 1, sentMonotonicNs: 0)
    }

    @Test func pairsInOrder() {
        var t = CorrelationTracker()
        for i in 1...100 { t.requestSent(pending(Int32(i))) }
        for i in 1...100 {
            #expect(t.responseReceived(correlationId: Int32(i)) == .inOrder(pending(Int32(i))))
        }
        #expect(t.outstandingCount == 0)
        #expect(t.responseReceived(correlationId: 1) == .unknown)
    }

    @Test func reportsOutOfOrderAndUnknown() {
        var t = CorrelationTracker()
        t.requestSent(pending(1))
        t.requestSent(pending(2, key: 1))
        #expect(t.responseReceived(correlationId: 2) == .outOfOrder(pending(2, key: 1), expected: 1))
        #expect(t.responseReceived(correlationId: 42) == .unknown)
        #expect(t.responseReceived(correlationId: 1) == .inOrder(pending(1)))
        #expect(t.outstandingCount == 0)
    }
}
