/// A request's keyed arrays and the response arrays that answer them, for a range of versions of one
/// API (generated from the message specs into `Generated/KafkaKeyedPairings.swift`).
///
/// Kafka's request/response pairs name what they ask about in arrays keyed by topic (name or, from
/// KIP-516, id), partition index, group id, transactional id, producer id or config resource, and the
/// response answers with arrays keyed the same way: `ProduceRequest.TopicData[].Name` +
/// `PartitionData[].Index` is answered by `ProduceResponse.Responses[].Name` +
/// `PartitionResponses[].Index`. The generator pairs a request path with the response path that has
/// the same key kinds at every level (the unique such path on each side), so the protocol's rule
/// "every entry asked about is answered once, under the same key" can be checked for every API
/// without a hand-written list.
public struct KafkaKeyedPairing: Hashable, Sendable {
    /// The API the pairing belongs to.
    public let apiKey: Int16
    /// The versions for which both paths exist with these keys.
    public let versions: ClosedRange<Int16>
    /// Levels from the request root, outermost first.
    public let request: [KafkaKeyLevel]
    /// Levels from the response root, outermost first; as many as the request's, same key kinds.
    public let response: [KafkaKeyLevel]

    /// A pairing from its parts (the generated `KafkaAPIs.keyedPairings` makes every one).
    public init(apiKey: Int16, versions: ClosedRange<Int16>, request: [KafkaKeyLevel], response: [KafkaKeyLevel]) {
        self.apiKey = apiKey
        self.versions = versions
        self.request = request
        self.response = response
    }

    /// The pairings that apply to `apiKey` at `version`.
    public static func pairings(apiKey: Int16, version: Int16) -> [KafkaKeyedPairing] {
        (byKey[apiKey] ?? []).filter { $0.versions.contains(version) }
    }

    private static let byKey: [Int16: [KafkaKeyedPairing]] = Dictionary(grouping: KafkaAPIs.keyedPairings, by: \.apiKey)
}

/// One array of a keyed path: the array field (spec name, as `kafkaValue(version:)` renders it) and
/// the fields that key its entries.
public struct KafkaKeyLevel: Hashable, Sendable {
    /// The array field's spec name in the enclosing struct (`Topics`, `PartitionData`).
    public let field: String
    /// The key fields of an entry; for an array of strings or int32s, one key with a nil name (the
    /// element itself).
    public let keys: [KafkaKeyField]

    /// A level of array `field` keyed by `keys`.
    public init(_ field: String, _ keys: [KafkaKeyField]) {
        self.field = field
        self.keys = keys
    }
}

/// A field that keys an array entry.
public struct KafkaKeyField: Hashable, Sendable {
    /// What the key identifies. A topic name and a topic id (KIP-516) name the same thing: requests and
    /// responses are matched on the topic whichever of the two they carry.
    public enum Kind: String, Hashable, Sendable {
        /// The kinds of thing Kafka arrays are keyed by: topics (by name or by id), partitions, groups,
        /// transactional ids, producer ids, and config resources (type and name).
        case topicName, topicId, partition, groupId, transactionalId, producerId, resourceType, resourceName
    }

    /// The field's spec name (`Name`, `PartitionIndex`); nil for the element of a primitive array.
    public let name: String?
    /// What the key identifies, so request and response keys of the same kind are compared.
    public let kind: Kind

    /// A key field called `name` (nil: the element itself) of kind `kind`.
    public init(_ name: String?, _ kind: Kind) {
        self.name = name
        self.kind = kind
    }
}
