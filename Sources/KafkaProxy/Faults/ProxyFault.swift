import KafkaProtocol

/// A gateway bug staged on purpose by `record --fault SPEC`, so tests and demos can reproduce it
/// against a healthy broker. Every injection is written to the capture as a `fault` event; the frame
/// records then hold what the client received (the event carries the broker's original bytes).
public enum ProxyFault: Hashable, Sendable, CustomStringConvertible {
    /// A repeated Fetch of a partition is answered with the partition data cached from an earlier,
    /// different offset (a fetch-session cache returning stale records).
    case staleFetch
    /// The first record of each partition's stream is dropped from the Fetch that carries it, and that
    /// response is held for `delayMs` (a gateway that swallowed it as a stream's init message).
    case swallowFirstRecord(delayMs: Int)
    /// Record values of `topic` come back empty in Fetch responses (batch CRCs recomputed).
    case emptyValues(topic: String)
    /// Responses to `apiKey` are held for `ms`.
    case delay(apiKey: Int16, ms: Int)
    /// Every error code in responses to `apiKey` becomes `code`, with probability `rate`.
    case error(apiKey: Int16, code: Int16, rate: Double)
    /// Two responses that arrive back to back on a connection are sent to the client swapped.
    case reorderResponses
    /// The second response on each connection carries the first response's correlation id.
    case duplicateCorrelationId
    /// Fetch high watermarks are reported `n` lower than the broker said.
    case hwmMinus(Int64)
    /// Broker addresses are left unrewritten: clients escape the proxy.
    case noRewrite
    /// The connection is closed instead of answering `apiKey`, with probability `rate`.
    case dropConnection(apiKey: Int16, rate: Double)

    /// The accepted `--fault` forms, for help and error messages.
    public static let specHelp = """
        stale-fetch | swallow-first-record[:DELAY_MS] | empty-values:TOPIC | delay:API:MS | error:API:CODE[:RATE] | \
        reorder-responses | duplicate-correlation-id | hwm-minus:N | no-rewrite | drop-connection:API[:RATE] \
        (API by name or key, e.g. Fetch or 1)
        """

    /// A `--fault` spec that does not parse.
    public struct ParseError: Error, CustomStringConvertible {
        /// One line naming the spec, what is wrong and the accepted forms.
        public var description: String
    }

    /// Parses a `--fault` spec.
    public init(spec: String) throws(ParseError) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> ParseError { ParseError(description: "bad --fault '\(spec)': \(why); expected \(Self.specHelp)") }
        func api(_ s: String) throws(ParseError) -> Int16 {
            if let k = Int16(s), KafkaAPIs.descriptor(apiKey: k) != nil { return k }
            if let d = KafkaAPIs.all.first(where: { $0.name.lowercased() == s.lowercased() }) { return d.apiKey }
            throw fail("unknown API '\(s)'")
        }
        func rate(_ i: Int) throws(ParseError) -> Double {
            guard parts.count > i else { return 1 }
            guard let r = Double(parts[i]), r >= 0, r <= 1 else { throw fail("rate must be between 0 and 1") }
            return r
        }
        switch parts[0] {
        case "stale-fetch" where parts.count == 1:
            self = .staleFetch
        case "swallow-first-record" where parts.count <= 2:
            if parts.count == 2 {
                guard let ms = Int(parts[1]), ms >= 0 else { throw fail("DELAY_MS must be a non-negative integer") }
                self = .swallowFirstRecord(delayMs: ms)
            } else {
                self = .swallowFirstRecord(delayMs: 30_000)
            }
        case "empty-values" where parts.count == 2 && !parts[1].isEmpty:
            self = .emptyValues(topic: parts[1])
        case "delay" where parts.count == 3:
            guard let ms = Int(parts[2]), ms >= 0 else { throw fail("MS must be a non-negative integer") }
            self = .delay(apiKey: try api(parts[1]), ms: ms)
        case "error" where parts.count == 3 || parts.count == 4:
            guard let code = Int16(parts[2]) else { throw fail("CODE must be a Kafka error code number") }
            self = .error(apiKey: try api(parts[1]), code: code, rate: try rate(3))
        case "reorder-responses" where parts.count == 1:
            self = .reorderResponses
        case "duplicate-correlation-id" where parts.count == 1:
            self = .duplicateCorrelationId
        case "hwm-minus" where parts.count == 2:
            guard let n = Int64(parts[1]), n > 0 else { throw fail("N must be a positive integer") }
            self = .hwmMinus(n)
        case "no-rewrite" where parts.count == 1:
            self = .noRewrite
        case "drop-connection" where parts.count == 2 || parts.count == 3:
            self = .dropConnection(apiKey: try api(parts[1]), rate: try rate(2))
        default:
            throw fail("unknown fault or wrong number of arguments")
        }
    }

    /// The fault as a `--fault` spec, with API names instead of keys.
    public var description: String {
        func name(_ k: Int16) -> String { KafkaAPIs.descriptor(apiKey: k)?.name ?? String(k) }
        switch self {
        case .staleFetch: return "stale-fetch"
        case .swallowFirstRecord(let ms): return "swallow-first-record:\(ms)"
        case .emptyValues(let t): return "empty-values:\(t)"
        case .delay(let k, let ms): return "delay:\(name(k)):\(ms)"
        case .error(let k, let c, let r): return "error:\(name(k)):\(c):\(r)"
        case .reorderResponses: return "reorder-responses"
        case .duplicateCorrelationId: return "duplicate-correlation-id"
        case .hwmMinus(let n): return "hwm-minus:\(n)"
        case .noRewrite: return "no-rewrite"
        case .dropConnection(let k, let r): return "drop-connection:\(name(k)):\(r)"
        }
    }
}

/// SplitMix64: the faults' only source of randomness, seeded per connection from `--seed`, so a run
/// with the same seed and the same traffic injects the same faults.
struct FaultRandom {
    var state: UInt64

    init(seed: UInt64, connectionId: UInt64) {
        state = seed ^ (connectionId &* 0x9E37_79B9_7F4A_7C15)
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        if p >= 1 { return true }
        if p <= 0 { return false }
        return Double(next() >> 11) / Double(1 << 53) < p
    }
}
