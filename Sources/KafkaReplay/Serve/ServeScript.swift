import KafkaCapture
import KafkaProtocol
import NIOCore

/// A recorded session prepared for serving: every request normalised once, with its answer.
public struct ServeScript: Sendable {
    /// One recorded request with its answer.
    public struct Entry: Sendable {
        /// The recorded exchange.
        public var exchange: Exchange
        /// The API's name, or `ApiKeyN`.
        public var apiName: String
        /// API key and version in one number, to compare quickly.
        var signature: Int32
        /// The request as `diff` sees it (same rules).
        var normalized: KafkaValue
    }

    /// One recorded connection's requests, in order.
    public struct Connection: Sendable {
        /// The recorded connection id.
        public var id: UInt64
        /// The node whose listener it was recorded on (-1: bootstrap).
        public var nodeId: Int32
        /// Its requests, in recorded order.
        public var entries: [Entry]
        /// One past the last entry that has a recorded answer: played through once the cursor is here.
        var playedThroughAt: Int
    }

    /// The recorded connections that sent requests.
    public var connections: [Connection]
    /// The broker node ids the recording names (each gets a listener).
    public var nodeIds: [Int32]
    /// How requests are normalised before they are compared.
    public let rules: NormalizationRules
    let normalizer: MessageNormalizer

    /// Prepares `session`: normalises every recorded request with `rules`.
    public init(session: RecordedSession, rules: NormalizationRules) {
        self.rules = rules
        normalizer = MessageNormalizer(rules: rules, topicNames: session.topicNames)
        let norm = normalizer
        connections = session.connections.filter { !$0.exchanges.isEmpty }.map { c in
            let entries = c.exchanges.map { e in
                Entry(
                    exchange: e, apiName: e.apiName ?? "ApiKey\(e.apiKey)", signature: Self.signature(e.apiKey, e.apiVersion),
                    normalized: ComparableExchange.normalizedRequest(e.request.payload, api: e.apiName ?? "ApiKey\(e.apiKey)", normalizer: norm))
            }
            let last = entries.lastIndex { $0.exchange.response != nil } ?? -1
            return Connection(id: c.id, nodeId: c.nodeId, entries: entries, playedThroughAt: last + 1)
        }
        nodeIds = session.nodeIds
    }

    static func signature(_ key: Int16, _ version: Int16) -> Int32 { Int32(key) << 16 | Int32(UInt16(bitPattern: version)) }

    /// Requests in the script.
    public var requestCount: Int { connections.reduce(0) { $0 + $1.entries.count } }
}
