import KafkaCapture
import KafkaProtocol

/// The outcome of comparing two captures exchange by exchange.
public struct DiffReport: Sendable {
    /// Which exchange of a capture: connection, correlation id, position on the connection, API.
    public struct ExchangeRef: Hashable, Sendable {
        public var connectionId: UInt64
        public var correlationId: Int32
        /// 1-based position among the connection's requests.
        public var position: Int
        public var apiName: String
        public var apiVersion: Int16
    }

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

    public struct ExchangeResult: Sendable {
        public var a: ExchangeRef?
        public var b: ExchangeRef?
        public var status: Status
        public var requestDifferences: [FieldDifference]
        public var responseDifferences: [FieldDifference]
        /// Things worth knowing that are not differences (a response neither client waited for).
        public var notes: [String]

        public var apiName: String { a?.apiName ?? b?.apiName ?? "?" }
        public var apiVersion: Int16 { a?.apiVersion ?? b?.apiVersion ?? -1 }
    }

    public struct ConnectionResult: Sendable {
        /// Connection id and role (`bootstrap`, `node 1`) on each side; nil when only one side has it.
        public var a: (id: UInt64, role: String)?
        public var b: (id: UInt64, role: String)?
        public var exchanges: [ExchangeResult]

        public var hasDifferences: Bool { a == nil || b == nil || exchanges.contains { $0.status != .same } }
    }

    public var pathA: String
    public var pathB: String
    public var connections: [ConnectionResult]
    public var rules: NormalizationRules
    public var warnings: [String]

    public var exchanges: [ExchangeResult] { connections.flatMap(\.exchanges) }

    public var isEquivalent: Bool { !connections.contains { $0.hasDifferences } }

    public var comparedCount: Int { exchanges.filter { $0.a != nil && $0.b != nil }.count }
    public var differingCount: Int { exchanges.filter { $0.status == .differs }.count }
    public var onlyInACount: Int { exchanges.filter { $0.status == .onlyInA }.count }
    public var onlyInBCount: Int { exchanges.filter { $0.status == .onlyInB }.count }
    public var unpairedConnections: Int { connections.filter { $0.a == nil || $0.b == nil }.count }

    /// Every difference as (exchange, side, difference), in report order.
    public var allDifferences: [(ExchangeResult, FieldPattern.Direction, FieldDifference)] {
        exchanges.flatMap { e in
            e.requestDifferences.map { (e, .request, $0) } + e.responseDifferences.map { (e, .response, $0) }
        }
    }
}
