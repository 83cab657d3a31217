import KafkaProtocol

/// A value the broker assigns and the client echoes later. Replay learns each one from its own
/// responses (by comparing them with the recorded responses) and substitutes it into later
/// requests, wherever a request field of the kind appears: one generic mechanism, driven by the
/// field names of Kafka's message specs, with no code per API.
///
/// A kind lists the response fields that carry the value (`ProducerId` in InitProducerId answers),
/// the request fields that echo it (`ProducerId` in AddPartitionsToTxn, EndTxn, ...), and the values
/// that mean "none" (never learned from: a request that carries one asks the broker for a fresh value).
public struct BindingKind: Hashable, Sendable {
    /// The kind's name in reports and edits (`producerId`).
    public var name: String
    /// Response field names (Kafka spec names) whose values the replay learns.
    public var responseFields: Set<String>
    /// Request field names whose recorded values are replaced by the learned ones.
    public var requestFields: Set<String>
    /// Values that mean "none": never learned, never replaced.
    public var sentinels: Set<KafkaValue>

    /// A kind from its parts (`all` lists the built-in ones).
    public init(name: String, responseFields: Set<String>, requestFields: Set<String>, sentinels: Set<KafkaValue>) {
        self.name = name
        self.responseFields = responseFields
        self.requestFields = requestFields
        self.sentinels = sentinels
    }

    /// Idempotent and transactional producer ids (KIP-98), from InitProducerId.
    public static let producerId = BindingKind(
        name: "producerId", responseFields: ["ProducerId"], requestFields: ["ProducerId"], sentinels: [.int(-1)])
    /// Producer epochs, which InitProducerId bumps to fence older producers (KIP-98).
    public static let producerEpoch = BindingKind(
        name: "producerEpoch", responseFields: ["ProducerEpoch"], requestFields: ["ProducerEpoch"], sentinels: [.int(-1)])
    /// Fetch sessions (KIP-227, Fetch v7+): 0 asks for a new session.
    public static let fetchSession = BindingKind(
        name: "fetchSessionId", responseFields: ["SessionId"], requestFields: ["SessionId"], sentinels: [.int(0), .int(-1)])
    /// Group member ids the coordinator assigns (KIP-394: JoinGroup answers MEMBER_ID_REQUIRED with one).
    public static let memberId = BindingKind(
        name: "memberId", responseFields: ["MemberId"], requestFields: ["MemberId"], sentinels: [.string(""), .null])
    /// Classic group generations, which each rebalance bumps.
    public static let generation = BindingKind(
        name: "generationId", responseFields: ["GenerationId"], requestFields: ["GenerationId", "GenerationIdOrMemberEpoch"],
        sentinels: [.int(-1)])
    /// KIP-848 consumer groups.
    public static let memberEpoch = BindingKind(
        name: "memberEpoch", responseFields: ["MemberEpoch"], requestFields: ["MemberEpoch", "GenerationIdOrMemberEpoch"],
        sentinels: [.int(-1), .int(-2)])
    /// Topic ids (KIP-516), which a new cluster assigns anew for the same topic names.
    public static let topicId = BindingKind(
        name: "topicId", responseFields: ["TopicId"], requestFields: ["TopicId"], sentinels: [.uuid(.zero)])
    /// Partition leader epochs (KIP-101, KIP-320), which the target's history decides.
    public static let leaderEpoch = BindingKind(
        name: "leaderEpoch", responseFields: ["LeaderEpoch"],
        requestFields: ["LeaderEpoch", "CurrentLeaderEpoch", "LastFetchedEpoch", "CommittedLeaderEpoch"], sentinels: [.int(-1)])
    /// KIP-714 client telemetry.
    public static let clientInstanceId = BindingKind(
        name: "clientInstanceId", responseFields: ["ClientInstanceId"], requestFields: ["ClientInstanceId"],
        sentinels: [.uuid(.zero)])
    /// Broker node ids (Metadata brokers and leaders, coordinators): no request echoes them, but replay
    /// routes a connection recorded to node N to the target's node that took N's place.
    public static let node = BindingKind(
        name: "nodeId", responseFields: ["NodeId", "LeaderId"], requestFields: [], sentinels: [.int(-1)])

    /// Every built-in kind, as `BindingTable` uses by default.
    public static let all: [BindingKind] = [
        .producerId, .producerEpoch, .fetchSession, .memberId, .generation, .memberEpoch, .topicId, .leaderEpoch,
        .clientInstanceId, .node,
    ]
}
