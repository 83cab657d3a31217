import KafkaProtocol

/// Per-API counts, error codes, latency percentiles and bytes of a capture: what `kafkatape stats`
/// prints and the HTML report draws. Fed one exchange at a time, so its memory does not grow with
/// the capture (latencies go to a `LatencyHistogram`).
public struct CaptureStatistics: Sendable {
    /// One API's figures.
    public struct PerAPI: Sendable {
        /// Exchanges (requests) of this API.
        public var count = 0
        /// Requests that never got a response (acks=0 Produce excluded: it expects none).
        public var unanswered = 0
        /// Of `unanswered`: the connection closed first (the client went away), not the capture's end.
        public var connectionClosed = 0
        /// Request-to-response times of the answered ones, ns.
        public var latencies = LatencyHistogram()
        /// Frame bytes with their 4-byte size prefixes.
        public var requestBytes = 0
        /// Response bytes, size prefixes included.
        public var responseBytes = 0
        /// Non-zero error codes anywhere in the responses, by code.
        public var errors: [Int16: Int] = [:]
        /// Responses that did not decode.
        public var undecodable = 0

        /// Nothing counted yet.
        public init() {}
    }

    /// By API key.
    public var apis: [Int16: PerAPI] = [:]
    /// Connections opened.
    public var connections = 0
    /// Proxy events by kind (`rewrite`, `fault`, ...).
    public var events: [String: Int] = [:]

    /// Nothing counted yet.
    public init() {}

    /// Exchanges over all APIs.
    public var exchanges: Int { apis.values.reduce(0) { $0 + $1.count } }

    /// Counts connections and events; exchanges come through `add`.
    public mutating func observe(_ record: CaptureRecord) {
        switch record {
        case .connectionOpened: connections += 1
        case .event(let e): events[e.kind.rawValue, default: 0] += 1
        default: break
        }
    }

    /// Adds one exchange; returns the error codes its response carried (empty for none), so a caller
    /// that draws the exchange knows whether to mark it without walking the response again.
    @discardableResult
    public mutating func add(_ decoded: DecodedExchange) -> [Int16: Int] {
        var found: [Int16: Int] = [:]
        // Mutated in place through the inout subscript: a copy out of the dictionary and back would
        // copy the entry's storage for every exchange.
        Self.add(decoded, to: &apis[decoded.exchange.apiKey, default: PerAPI()], errors: &found)
        return found
    }

    /// Adds one exchange, decoding it only when it has a response (whose error codes count).
    public mutating func add(_ exchange: Exchange) {
        guard exchange.response != nil else {
            Self.addUnanswered(exchange, to: &apis[exchange.apiKey, default: PerAPI()])
            return
        }
        add(DecodedExchange(exchange))
    }

    static func addUnanswered(_ e: Exchange, to s: inout PerAPI) {
        s.count += 1
        s.requestBytes += Int(e.request.wireLength) + 4
        if e.missingResponse != .notExpected {
            s.unanswered += 1
            if e.missingResponse == .connectionClosed { s.connectionClosed += 1 }
        }
    }

    static func add(_ decoded: DecodedExchange, to s: inout PerAPI, errors found: inout [Int16: Int]) {
        let e = decoded.exchange
        guard let r = e.response else {
            addUnanswered(e, to: &s)
            return
        }
        s.count += 1
        s.requestBytes += Int(e.request.wireLength) + 4
        s.responseBytes += Int(r.wireLength) + 4
        if let l = e.latencyNs { s.latencies.add(l) }
        if let v = decoded.responseValue {
            collectErrors(v, into: &found)
            for (code, n) in found { s.errors[code, default: 0] += n }
        } else {
            s.undecodable += 1
        }
    }

    /// Every non-zero ErrorCode anywhere in a response.
    public static func collectErrors(_ v: KafkaValue, into errors: inout [Int16: Int]) {
        switch v {
        case .object(let o):
            for f in o.fields {
                if f.name == "ErrorCode", case .int(let c) = f.value {
                    if c != 0 { errors[Int16(truncatingIfNeeded: c), default: 0] += 1 }
                } else {
                    collectErrors(f.value, into: &errors)
                }
            }
        case .array(let a):
            for e in a { collectErrors(e, into: &errors) }
        default: break
        }
    }

    /// The `stats --json` object: connections, exchanges, events, and per API count, unanswered,
    /// undecodable, errors by name, latency p50/p99/max in ns, bytes.
    public var jsonValue: KafkaValue {
        var list: [KafkaValue] = []
        for (key, s) in apis.sorted(by: { $0.key < $1.key }) {
            let lat = s.latencies
            list.append(.object(KafkaObject([
                ("apiKey", .int(Int64(key))),
                ("apiName", .string(KafkaAPIs.descriptor(apiKey: key)?.name ?? "ApiKey\(key)")),
                ("count", .int(Int64(s.count))),
                ("unanswered", .int(Int64(s.unanswered))),
                ("unansweredConnectionClosed", .int(Int64(s.connectionClosed))),
                ("unansweredCaptureEnded", .int(Int64(s.unanswered - s.connectionClosed))),
                ("undecodable", .int(Int64(s.undecodable))),
                ("errors", .object(KafkaObject(s.errors.sorted { $0.key < $1.key }.map { (KafkaErrorCode.name($0.key), .int(Int64($0.value))) }))),
                ("latencyP50Ns", lat.percentile(0.50).map { .int($0) } ?? .null),
                ("latencyP99Ns", lat.percentile(0.99).map { .int($0) } ?? .null),
                ("latencyMaxNs", lat.maximum.map { .int($0) } ?? .null),
                ("requestBytes", .int(Int64(s.requestBytes))),
                ("responseBytes", .int(Int64(s.responseBytes))),
            ])))
        }
        return .object(KafkaObject([
            ("connections", .int(Int64(connections))),
            ("exchanges", .int(Int64(exchanges))),
            ("events", .object(KafkaObject(events.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }))),
            ("apis", .array(list)),
        ]))
    }
}
