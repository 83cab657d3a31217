import KafkaProtocol
import NIOCore

/// Pairs request frames with response frames, per connection, as records stream past.
///
/// Kafka responses carry only the correlation id, so the tracker remembers each request's api key,
/// version and correlation id (request header: INT16 api key, INT16 api version, INT32 correlation id)
/// and matches a response (INT32 correlation id first) to the oldest outstanding request on the same
/// connection with that id. A response that skips older outstanding requests still pairs, flagged
/// `responseOutOfOrder`. Produce requests with acks=0 complete at once with `.notExpected`; requests
/// still outstanding when their connection closes, or at `finish()`, complete without a response.
///
/// Memory: outstanding requests (their frames) and, with `.requestOrder`, completed exchanges waiting
/// for an older request to complete. Nothing else of the capture is held.
public struct ExchangeTracker {
    /// The order exchanges are emitted in.
    public enum Ordering: Hashable, Sendable {
        /// Exchanges in the order requests were sent: a completed exchange waits for every older
        /// request to complete.
        case requestOrder
        /// Exchanges as soon as they complete (use `Exchange.sequence` to restore request order).
        case completionOrder
    }

    private struct Outstanding {
        var sequence: Int
        var correlationId: Int32
        var apiKey: Int16
        var apiVersion: Int16
        var request: FrameRecord
    }

    /// The order this tracker emits exchanges in.
    public let ordering: Ordering
    private var outstanding: [UInt64: CircularBuffer<Outstanding>] = [:]
    private var nextSequence = 0
    private var nextToEmit = 0
    private var completed: [Int: Exchange] = [:]

    /// A tracker with nothing outstanding.
    public init(ordering: Ordering = .requestOrder) {
        self.ordering = ordering
    }

    /// Requests waiting for a response, over all connections.
    public var outstandingCount: Int { outstanding.values.reduce(0) { $0 + $1.count } }

    /// Completed exchanges held back for request order.
    public var heldBackCount: Int { completed.count }

    /// Feeds one record; returns what it completed (usually zero or one event).
    public mutating func process(_ record: CaptureRecord) -> [ExchangeEvent] {
        switch record {
        case .frame(let frame):
            return frame.direction == .request ? request(frame) : response(frame)
        case .connectionClosed(let closed):
            guard let pending = outstanding.removeValue(forKey: closed.connectionId) else { return [] }
            var out: [ExchangeEvent] = []
            for p in pending { complete(p, response: nil, missing: .connectionClosed, outOfOrder: false, into: &out) }
            return out
        default:
            return []
        }
    }

    /// Ends the capture: completes every outstanding request with `.captureEnded` and releases any
    /// exchanges held back.
    public mutating func finish() -> [ExchangeEvent] {
        var out: [ExchangeEvent] = []
        let all = outstanding.values.flatMap { $0 }.sorted { $0.sequence < $1.sequence }
        outstanding.removeAll()
        for p in all { complete(p, response: nil, missing: .captureEnded, outOfOrder: false, into: &out) }
        return out
    }

    /// Pairs a whole sequence of records (then `finish()`).
    public static func pair<S: Sequence>(_ records: S, ordering: Ordering = .requestOrder) -> [ExchangeEvent]
    where S.Element == CaptureRecord {
        var tracker = ExchangeTracker(ordering: ordering)
        var out: [ExchangeEvent] = []
        for r in records { out += tracker.process(r) }
        out += tracker.finish()
        return out
    }

    // MARK: - Internals

    private mutating func request(_ frame: FrameRecord) -> [ExchangeEvent] {
        let p = frame.payload
        guard let apiKey = p.getInteger(at: p.readerIndex, endianness: .big, as: Int16.self),
            let apiVersion = p.getInteger(at: p.readerIndex + 2, endianness: .big, as: Int16.self),
            let correlationId = p.getInteger(at: p.readerIndex + 4, endianness: .big, as: Int32.self)
        else {
            return [.unparsableRequest(frame)]
        }
        let entry = Outstanding(
            sequence: nextSequence, correlationId: correlationId, apiKey: apiKey, apiVersion: apiVersion, request: frame)
        nextSequence += 1
        if apiKey == 0, Self.produceAcks(frame.payload, version: apiVersion) == 0 {
            var out: [ExchangeEvent] = []
            complete(entry, response: nil, missing: .notExpected, outOfOrder: false, into: &out)
            return out
        }
        outstanding[frame.connectionId, default: CircularBuffer()].append(entry)
        return []
    }

    private mutating func response(_ frame: FrameRecord) -> [ExchangeEvent] {
        let p = frame.payload
        guard let correlationId = p.getInteger(at: p.readerIndex, endianness: .big, as: Int32.self) else {
            return [.unmatchedResponse(UnmatchedResponse(connectionId: frame.connectionId, correlationId: nil, response: frame, reason: .tooShort))]
        }
        guard var queue = outstanding[frame.connectionId],
            let index = queue.firstIndex(where: { $0.correlationId == correlationId })
        else {
            return [
                .unmatchedResponse(
                    UnmatchedResponse(
                        connectionId: frame.connectionId, correlationId: correlationId, response: frame,
                        reason: .unknownCorrelationId))
            ]
        }
        let outOfOrder = index != queue.startIndex
        let entry = queue.remove(at: index)
        outstanding[frame.connectionId] = queue.isEmpty ? nil : queue
        var out: [ExchangeEvent] = []
        complete(entry, response: frame, missing: nil, outOfOrder: outOfOrder, into: &out)
        return out
    }

    private mutating func complete(
        _ p: Outstanding, response: FrameRecord?, missing: Exchange.MissingResponse?, outOfOrder: Bool,
        into out: inout [ExchangeEvent]
    ) {
        let exchange = Exchange(
            connectionId: p.request.connectionId, correlationId: p.correlationId, apiKey: p.apiKey,
            apiVersion: p.apiVersion, request: p.request, response: response, missingResponse: missing,
            responseOutOfOrder: outOfOrder, sequence: p.sequence)
        guard ordering == .requestOrder else {
            out.append(.exchange(exchange))
            return
        }
        completed[p.sequence] = exchange
        while let next = completed.removeValue(forKey: nextToEmit) {
            out.append(.exchange(next))
            nextToEmit += 1
        }
    }

    /// The acks field of a Produce request, or nil when the frame does not parse that far.
    /// Request header v1 (v2 with tagged fields from Produce v9), then transactional_id (from v3,
    /// compact from v9), then acks (INT16).
    static func produceAcks(_ payload: ByteBuffer, version: Int16) -> Int16? {
        var r = KafkaReader(payload)
        do throws(KafkaDecodingError) {
            _ = try r.readSlice(length: 8)
            _ = try r.readNullableString(compact: false)
            let flexible = version >= 9
            if flexible {
                let n = try r.readTaggedFieldCount()
                var previous: Int64 = -1
                for _ in 0..<n { _ = try r.readTaggedField(previous: &previous) }
            }
            if version >= 3 { _ = try r.readNullableString(compact: flexible) }
            return try r.readInt16()
        } catch {
            return nil
        }
    }
}
