import NIOCore
import Testing

@testable import KafkaCapture

@Suite struct ExchangeTrackerTests {
    func exchanges(_ events: [ExchangeEvent]) -> [Exchange] {
        events.compactMap { if case .exchange(let e) = $0 { return e } else { return nil } }
    }

    @Test func pairsInOrderPerConnectionWithLatency() throws {
        let records: [CaptureRecord] = [
            frame(1, .request, requestPayload(apiKey: 18, version: 3, correlationId: 1), at: 0),
            frame(2, .request, requestPayload(apiKey: 3, version: 12, correlationId: 1), at: 5),
            frame(1, .response, responsePayload(correlationId: 1), at: 10),
            frame(1, .request, requestPayload(apiKey: 1, version: 16, correlationId: 2), at: 20),
            frame(2, .response, responsePayload(correlationId: 1), at: 30),
            frame(1, .response, responsePayload(correlationId: 2), at: 520),
        ]
        let events = ExchangeTracker.pair(records)
        let ex = exchanges(events)
        #expect(ex.count == events.count)
        #expect(ex.map(\.connectionId) == [1, 2, 1])
        #expect(ex.map(\.apiKey) == [18, 3, 1])
        #expect(ex.map(\.apiVersion) == [3, 12, 16])
        #expect(ex.map(\.sequence) == [0, 1, 2])
        #expect(ex.map(\.latencyNs) == [10, 25, 500])
        #expect(ex.map(\.apiName) == ["ApiVersions", "Metadata", "Fetch"])
        #expect(ex[0].requestTimeNs == ts(0).wallNs)
        #expect(ex.allSatisfy { !$0.responseOutOfOrder && $0.missingResponse == nil && $0.response != nil })
    }

    @Test func outOfOrderResponseStillPairsAndIsFlagged() {
        let records: [CaptureRecord] = [
            frame(1, .request, requestPayload(apiKey: 3, version: 12, correlationId: 10), at: 0),
            frame(1, .request, requestPayload(apiKey: 3, version: 12, correlationId: 11), at: 1),
            frame(1, .request, requestPayload(apiKey: 3, version: 12, correlationId: 12), at: 2),
            frame(1, .response, responsePayload(correlationId: 11), at: 3),
            frame(1, .response, responsePayload(correlationId: 10), at: 4),
            frame(1, .response, responsePayload(correlationId: 12), at: 5),
        ]
        let ex = exchanges(ExchangeTracker.pair(records))
        #expect(ex.map(\.correlationId) == [10, 11, 12])
        #expect(ex.map(\.responseOutOfOrder) == [false, true, false])
        #expect(ex.map(\.latencyNs) == [4, 2, 3])

        let byCompletion = exchanges(ExchangeTracker.pair(records, ordering: .completionOrder))
        #expect(byCompletion.map(\.correlationId) == [11, 10, 12])
    }

    @Test func missingResponsesAtCloseAndAtEnd() {
        let records: [CaptureRecord] = [
            frame(1, .request, requestPayload(apiKey: 3, version: 12, correlationId: 1), at: 0),
            frame(2, .request, requestPayload(apiKey: 3, version: 12, correlationId: 1), at: 1),
            frame(1, .request, requestPayload(apiKey: 3, version: 12, correlationId: 2), at: 2),
            frame(1, .response, responsePayload(correlationId: 1), at: 3),
            .connectionClosed(ConnectionClosedRecord(time: ts(4), connectionId: 1, closedBy: .broker, reason: "reset")),
        ]
        var tracker = ExchangeTracker()
        var events: [ExchangeEvent] = []
        for r in records { events += tracker.process(r) }
        // Conn 2's request (sequence 1) is still open, so conn 1's later exchange is held back.
        #expect(exchanges(events).map(\.sequence) == [0])
        #expect(tracker.outstandingCount == 1)
        #expect(tracker.heldBackCount == 1)
        events += tracker.finish()
        let ex = exchanges(events)
        #expect(ex.map(\.sequence) == [0, 1, 2])
        #expect(ex.map(\.missingResponse) == [nil, .captureEnded, .connectionClosed])
        #expect(ex[1].latencyNs == nil && ex[1].response == nil)
        #expect(tracker.outstandingCount == 0 && tracker.heldBackCount == 0)
    }

    @Test func unmatchedAndUnparsableFramesAreReported() {
        let records: [CaptureRecord] = [
            frame(1, .request, bytes([0, 3, 0, 1]), at: 0),
            frame(1, .response, responsePayload(correlationId: 99), at: 1),
            frame(1, .response, bytes([1, 2]), at: 2),
        ]
        let events = ExchangeTracker.pair(records)
        #expect(events.count == 3)
        guard case .unparsableRequest(let f) = events[0] else {
            Issue.record("expected an unparsable request, got \(events[0])")
            return
        }
        #expect(f.payload.readableBytes == 4)
        guard case .unmatchedResponse(let u1) = events[1], case .unmatchedResponse(let u2) = events[2] else {
            Issue.record("expected unmatched responses")
            return
        }
        #expect(u1.correlationId == 99 && u1.reason == .unknownCorrelationId)
        #expect(u2.correlationId == nil && u2.reason == .tooShort)
    }

    @Test func produceWithAcksZeroExpectsNoResponse() {
        // Produce v3: header v1, then transactional_id (INT16 null), acks, timeout.
        let v3 = requestPayload(apiKey: 0, version: 3, correlationId: 1, body: [0xFF, 0xFF, 0, 0, 0, 0, 0x75, 0x30])
        // Produce v9 (flexible): header v2 adds an empty tagged-field section; transactional_id is a
        // COMPACT_NULLABLE_STRING ("tx" = length 3).
        let v9 = requestPayload(
            apiKey: 0, version: 9, correlationId: 2, body: [0x00, 0x03, 0x74, 0x78, 0, 0, 0, 0, 0x75, 0x30])
        // acks=1 gets a response.
        let v9acks1 = requestPayload(apiKey: 0, version: 9, correlationId: 3, body: [0x00, 0x00, 0, 1, 0, 0, 0x75, 0x30])
        // Produce v2: acks first.
        let v2 = requestPayload(apiKey: 0, version: 2, correlationId: 4, body: [0, 0, 0, 0, 0x75, 0x30])
        let records: [CaptureRecord] = [
            frame(1, .request, v3), frame(1, .request, v9), frame(1, .request, v9acks1), frame(1, .request, v2),
            frame(1, .response, responsePayload(correlationId: 3)),
        ]
        #expect(ExchangeTracker.produceAcks(v3, version: 3) == 0)
        #expect(ExchangeTracker.produceAcks(v9, version: 9) == 0)
        #expect(ExchangeTracker.produceAcks(v9acks1, version: 9) == 1)
        #expect(ExchangeTracker.produceAcks(v2, version: 2) == 0)
        var tracker = ExchangeTracker()
        var events: [ExchangeEvent] = []
        for r in records { events += tracker.process(r) }
        let ex = exchanges(events)
        #expect(ex.map(\.correlationId) == [1, 2, 3, 4])
        #expect(ex.map(\.missingResponse) == [.notExpected, .notExpected, nil, .notExpected])
        #expect(tracker.outstandingCount == 0)
    }

    @Test func duplicateCorrelationIdsPairFIFO() {
        let records: [CaptureRecord] = [
            frame(1, .request, requestPayload(apiKey: 3, version: 12, correlationId: 5), at: 0),
            frame(1, .request, requestPayload(apiKey: 19, version: 7, correlationId: 5), at: 1),
            frame(1, .response, responsePayload(correlationId: 5), at: 2),
            frame(1, .response, responsePayload(correlationId: 5), at: 3),
        ]
        let ex = exchanges(ExchangeTracker.pair(records))
        #expect(ex.map(\.apiKey) == [3, 19])
        #expect(ex.map(\.latencyNs) == [2, 2])
    }

    @Test func pairsStraightFromAReader() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in sampleRecords() { try writer.append(r) }
        try writer.close()
        let reader = try CaptureReader(path: "m", storage: storage)
        var tracker = ExchangeTracker()
        var events: [ExchangeEvent] = []
        while let r = try reader.next() { events += tracker.process(r) }
        events += tracker.finish()
        let ex = exchanges(events)
        // ApiVersions 7 answered; the redacted Produce (header kept) outstanding until its connection
        // closed; the truncated response matches nothing; the empty request does not parse.
        #expect(ex.map(\.correlationId) == [7, 8])
        #expect(ex.map(\.missingResponse) == [nil, .connectionClosed])
        #expect(ex.last?.request.flags == [.redacted])
        #expect(events.count == 4)
        #expect(events.contains { if case .unparsableRequest = $0 { return true } else { return false } })
        #expect(events.contains { if case .unmatchedResponse = $0 { return true } else { return false } })
    }
}
