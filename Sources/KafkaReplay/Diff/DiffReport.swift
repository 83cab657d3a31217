import KafkaCapture
import KafkaProtocol

/// The outcome of comparing two captures exchange by exchange.
public struct DiffReport: Sendable {
    /// Which exchange of a capture: connection, correlation id, position on the connection, API.
    public struct ExchangeRef: Hashable, Sendable {
        /// The connection within its capture (ids differ between captures; alignment pairs them).
        public var connectionId: UInt64
        /// The request's correlation id as the client sent it.
        public var correlationId: Int32
        /// 1-based position among the connection's requests.
        public var position: Int
        /// The API's name (`Fetch`), or `ApiKeyN` for an unknown key.
        public var apiName: String
        /// The request's version.
        public var apiVersion: Int16
    }

    /// How one aligned exchange came out.
    public enum Status: String, Hashable, Sendable {
        /// Equivalent under the rules.
        case same
        /// Request or response differ (see the differences).
        case differs
        /// The request stream diverged: this request was sent only in capture A.
        case onlyInA
        /// The request stream diverged: this request was sent only in capture B.
        case onlyInB
    }

    /// One exchange's comparison: where it is in each capture and what differs.
    public struct ExchangeResult: Sendable {
        /// The exchange in capture A; nil when only B has it.
        public var a: ExchangeRef?
        /// The exchange in capture B; nil when only A has it.
        public var b: ExchangeRef?
        /// Same, different, or on one side only.
        public var status: Status
        /// Request fields that differ after normalisation.
        public var requestDifferences: [FieldDifference]
        /// Response fields that differ after normalisation.
        public var responseDifferences: [FieldDifference]
        /// Things worth knowing that are not differences (a response neither client waited for).
        public var notes: [String]

        /// The API's name from whichever side has the exchange.
        public var apiName: String { a?.apiName ?? b?.apiName ?? "?" }
        /// The request version from whichever side has the exchange (A first); -1 when neither does.
        public var apiVersion: Int16 { a?.apiVersion ?? b?.apiVersion ?? -1 }
    }

    /// One pair of aligned connections and their exchanges.
    public struct ConnectionResult: Sendable {
        /// Connection id and role (`bootstrap`, `node 1`) on each side; nil when only one side has it.
        public var a: (id: UInt64, role: String)?
        /// The connection in capture B, as `a` is in capture A.
        public var b: (id: UInt64, role: String)?
        /// The aligned exchanges, in request order.
        public var exchanges: [ExchangeResult]

        /// True when the connection is on one side only or any of its exchanges is not the same.
        public var hasDifferences: Bool { a == nil || b == nil || exchanges.contains { $0.status != .same } }
    }

    /// What a streaming comparison hands out, in report order: each pair of connections, then its
    /// exchanges.
    public enum Event {
        /// A pair of connections starts (nil: the connection exists on one side only).
        case connection(a: (id: UInt64, role: String)?, b: (id: UInt64, role: String)?)
        /// One aligned exchange of the current pair.
        case exchange(ExchangeResult)
    }

    /// The figures of the summary line, counted as the comparison goes.
    public struct Counts: Sendable {
        /// Exchanges present on both sides.
        public var compared = 0
        /// Of those, the ones that differ.
        public var differing = 0
        /// Requests sent only in A.
        public var onlyInA = 0
        /// Requests sent only in B.
        public var onlyInB = 0
        /// Connections without a partner on the other side.
        public var unpairedConnections = 0

        /// Nothing counted yet.
        public init() {}

        /// Counts one exchange's result.
        public mutating func add(_ e: ExchangeResult) {
            if e.a != nil && e.b != nil { compared += 1 }
            switch e.status {
            case .same: break
            case .differs: differing += 1
            case .onlyInA: onlyInA += 1
            case .onlyInB: onlyInB += 1
            }
        }

        /// Whether the captures are equivalent: no difference, no one-sided request or connection.
        public var isEquivalent: Bool { differing == 0 && onlyInA == 0 && onlyInB == 0 && unpairedConnections == 0 }
    }

    /// Capture A's path, as given.
    public var pathA: String
    /// Capture B's path, as given.
    public var pathB: String
    /// The aligned connections, and those that only one capture has.
    public var connections: [ConnectionResult]
    /// The normalisation rules the comparison used (what was ignored or renamed).
    public var rules: NormalizationRules
    /// Problems that did not stop the comparison (damaged tails, frames that did not decode).
    public var warnings: [String]

    /// Every exchange result, connection by connection.
    public var exchanges: [ExchangeResult] { connections.flatMap(\.exchanges) }

    /// True when nothing differs: what `kafkatape diff` exits 0 for.
    public var isEquivalent: Bool { !connections.contains { $0.hasDifferences } }

    /// Exchanges present on both sides.
    public var comparedCount: Int { exchanges.filter { $0.a != nil && $0.b != nil }.count }
    /// Exchanges present on both sides that differ.
    public var differingCount: Int { exchanges.filter { $0.status == .differs }.count }
    /// Requests sent only in capture A.
    public var onlyInACount: Int { exchanges.filter { $0.status == .onlyInA }.count }
    /// Requests sent only in capture B.
    public var onlyInBCount: Int { exchanges.filter { $0.status == .onlyInB }.count }
    /// Connections with no partner on the other side.
    public var unpairedConnections: Int { connections.filter { $0.a == nil || $0.b == nil }.count }

    /// Every difference as (exchange, side, difference), in report order.
    public var allDifferences: [(ExchangeResult, FieldPattern.Direction, FieldDifference)] {
        exchanges.flatMap { e in
            e.requestDifferences.map { (e, .request, $0) } + e.responseDifferences.map { (e, .response, $0) }
        }
    }
}
