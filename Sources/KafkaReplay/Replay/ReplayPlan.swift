import KafkaCapture

/// The recorded session as replay steps, with the happens-before order of the original.
///
/// A request depends on every response, on any connection, that the proxy had seen before it saw
/// the request (so the client could have known it). Responses on one connection arrive in request
/// order, so it is enough to keep, per connection, the last response seen before the request: replay
/// sends the request only once each of those has arrived in the replay too. Requests of one
/// connection also go out in their recorded order.
public struct ReplayPlan: Sendable {
    /// A response a step waits for: which connection, which of its steps.
    public struct Dependency: Hashable, Sendable {
        /// Index into `connections`.
        public var connection: Int
        /// Index into that connection's steps.
        public var step: Int
    }

    /// One recorded request and what must have arrived before it may be sent.
    public struct Step: Sendable {
        /// The recorded exchange (request, and response when there was one).
        public var exchange: Exchange
        /// Responses, on any connection, that the client had seen before sending this request.
        public var dependencies: [Dependency]
        /// Nanoseconds from the session's first request to this one, as recorded.
        public var offsetNs: UInt64
        /// The broker answers this request (everything but Produce with acks=0).
        public var expectsResponse: Bool
        /// The recording has the answer, so replay waits for it; without one (the client closed the
        /// connection first, or the capture ended) replay sends the request and moves on.
        public var responseRequired: Bool
    }

    /// When a connection that sent no request (a health check's TCP probe, a client's reconnect that
    /// it abandoned) was opened: replay opens and closes it in its place in the order too, so a
    /// capture with such connections replays (and diffs) like the original.
    public struct Open: Sendable {
        /// Responses that had arrived before the connection was opened.
        public var dependencies: [Dependency]
        /// Nanoseconds from the session's first request (or first connection) to the opening.
        public var offsetNs: UInt64
    }

    /// The connections to replay, in the session's order.
    public var connections: [RecordedConnection]
    /// Per connection (same order), its requests in recorded order.
    public var steps: [[Step]]
    /// Per connection; used for connections without requests (`steps[i]` empty).
    public var opens: [Open]

    /// Requests in the plan.
    public var requestCount: Int { steps.reduce(0) { $0 + $1.count } }

    /// Plans `session`: orders every request after the responses its client had seen when it sent it.
    public init(session: RecordedSession) {
        // Connections that never sent a request still count when the capture saw them open.
        connections = session.connections.filter { !$0.exchanges.isEmpty || $0.opened != nil }
        struct Event {
            var time: UInt64
            var sequence: Int
            var connection: Int
            var step: Int
        }
        var requests: [Event] = []
        var responses: [Event] = []
        // An empty connection takes part as a request at its opening time (step -1).
        for (ci, c) in connections.enumerated() where c.exchanges.isEmpty {
            if let o = c.opened { requests.append(Event(time: o.time.monotonicNs, sequence: -1, connection: ci, step: -1)) }
        }
        for (ci, c) in connections.enumerated() {
            for (si, e) in c.exchanges.enumerated() {
                requests.append(Event(time: e.request.time.monotonicNs, sequence: e.sequence, connection: ci, step: si))
                if let r = e.response {
                    responses.append(Event(time: r.time.monotonicNs, sequence: e.sequence, connection: ci, step: si))
                }
            }
        }
        requests.sort { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        responses.sort { ($0.time, $0.sequence) < ($1.time, $1.sequence) }
        let first = requests.first?.time ?? 0
        var latest: [Int: Int] = [:]
        var next = 0
        var steps: [[Step]] = connections.map { c in
            c.exchanges.map { e in
                Step(
                    exchange: e, dependencies: [], offsetNs: 0, expectsResponse: e.missingResponse != .notExpected,
                    responseRequired: e.response != nil)
            }
        }
        var opens = Array(repeating: Open(dependencies: [], offsetNs: 0), count: connections.count)
        for r in requests {
            while next < responses.count && responses[next].time < r.time {
                let resp = responses[next]
                latest[resp.connection] = max(latest[resp.connection] ?? -1, resp.step)
                next += 1
            }
            var deps = latest.map { Dependency(connection: $0.key, step: $0.value) }
            deps.removeAll { $0.connection == r.connection && $0.step >= r.step }
            deps.sort { ($0.connection, $0.step) < ($1.connection, $1.step) }
            let offset = r.time > first ? r.time &- first : 0
            if r.step < 0 {
                opens[r.connection] = Open(dependencies: deps, offsetNs: offset)
            } else {
                steps[r.connection][r.step].dependencies = deps
                steps[r.connection][r.step].offsetNs = offset
            }
        }
        self.steps = steps
        self.opens = opens
    }
}
