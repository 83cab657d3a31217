/// Pairs responses with requests on one connection. Kafka responses carry only the correlation id,
/// so the proxy remembers each request's API key and version in send order (a small state machine:
/// one event per frame, never any I/O).
public struct CorrelationTracker: Sendable {
    public struct Pending: Hashable, Sendable {
        public var correlationId: Int32
        public var apiKey: Int16
        public var apiVersion: Int16
        public var sentMonotonicNs: UInt64
    }

    public enum ResponseMatch: Hashable, Sendable {
        /// The oldest outstanding request, as Kafka requires.
        case inOrder(Pending)
        /// A request that was not the oldest: responses came back out of order.
        case outOfOrder(Pending, expected: Int32)
        /// No outstanding request has this id.
        case unknown

        public var pending: Pending? {
            switch self {
            case .inOrder(let p), .outOfOrder(let p, _): return p
            case .unknown: return nil
            }
        }
    }

    private var outstanding: [Pending] = []
    private var head = 0

    public init() {}

    public var outstandingCount: Int { outstanding.count - head }

    public var outstandingRequests: ArraySlice<Pending> { outstanding[head...] }

    public mutating func requestSent(_ pending: Pending) {
        outstanding.append(pending)
    }

    public mutating func responseReceived(correlationId: Int32) -> ResponseMatch {
        guard head < outstanding.count else { return .unknown }
        let first = outstanding[head]
        if first.correlationId == correlationId {
            head += 1
            if head > 64 && head * 2 > outstanding.count {
                outstanding.removeFirst(head)
                head = 0
            }
            return .inOrder(first)
        }
        guard let i = outstanding[head...].firstIndex(where: { $0.correlationId == correlationId }) else {
            return .unknown
        }
        let p = outstanding.remove(at: i)
        return .outOfOrder(p, expected: first.correlationId)
    }
}
