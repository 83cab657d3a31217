/// Pairs responses with requests on one connection. Kafka responses carry only the correlation id,
/// so the proxy remembers each request's API key and version in send order (a small state machine:
/// one event per frame, never any I/O).
public struct CorrelationTracker: Sendable {
    /// A request still waiting for its response: what the response's bytes will need to be decoded, and when it left.
    public struct Pending: Hashable, Sendable {
        /// The id the client chose; the response header repeats it and nothing else.
        public var correlationId: Int32
        /// The request's API, which the response does not carry.
        public var apiKey: Int16
        /// The request's version: the response is in the same version.
        public var apiVersion: Int16
        /// When the request was forwarded (monotonic clock), for the exchange's latency.
        public var sentMonotonicNs: UInt64
    }

    /// How a response's correlation id relates to the outstanding requests.
    public enum ResponseMatch: Hashable, Sendable {
        /// The oldest outstanding request, as Kafka requires.
        case inOrder(Pending)
        /// A request that was not the oldest: responses came back out of order.
        case outOfOrder(Pending, expected: Int32)
        /// No outstanding request has this id.
        case unknown

        /// The request the response answers, whatever its order; nil for an unknown id.
        public var pending: Pending? {
            switch self {
            case .inOrder(let p), .outOfOrder(let p, _): return p
            case .unknown: return nil
            }
        }
    }

    private var outstanding: [Pending] = []
    private var head = 0

    /// A tracker for a new connection, with nothing outstanding.
    public init() {}

    /// Requests sent and not answered yet.
    public var outstandingCount: Int { outstanding.count - head }

    /// The unanswered requests, oldest first (what a closed connection leaves without a response).
    public var outstandingRequests: ArraySlice<Pending> { outstanding[head...] }

    /// Records a request forwarded upstream; call it in send order. (Produce with acks=0 gets no
    /// response and must not be recorded.)
    public mutating func requestSent(_ pending: Pending) {
        outstanding.append(pending)
    }

    /// Matches a response to the request with `correlationId` and forgets that request. Kafka answers the
    /// requests of one connection in order, so anything but the oldest is reported as out of order.
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
