/// Error codes that an API can return only from some version on: the version that introduced the code
/// for that API (with the KIP or the feature that came with it). A broker must not send them to
/// older versions, whose clients do not know them (Kafka maps them to older codes instead, e.g.
/// PRODUCER_FENCED to INVALID_PRODUCER_EPOCH below the versions listed). The one table I24 reads;
/// every entry cites the message spec comment (Kafka 4.2.1, `clients/src/main/resources/common/message`)
/// or KIP it comes from.
public struct ErrorCodeIntroduction: Hashable, Sendable {
    /// The API.
    public let apiKey: Int16
    /// The error code it may return only from `minVersion` on.
    public let errorCode: Int16
    /// The error's name, as in `org.apache.kafka.common.protocol.Errors` (a test checks it against the code).
    public let errorName: String
    /// The first version of the API that may return the code.
    public let minVersion: Int16
    /// Where the rule comes from.
    public let source: String

    /// The version that introduced `code` for `apiKey`, when the table knows one.
    public static func minimumVersion(apiKey: Int16, errorCode: Int16) -> ErrorCodeIntroduction? {
        byKey[Key(apiKey: apiKey, errorCode: errorCode)]
    }

    private struct Key: Hashable {
        var apiKey: Int16
        var errorCode: Int16
    }

    private static let byKey: [Key: ErrorCodeIntroduction] = Dictionary(
        all.map { (Key(apiKey: $0.apiKey, errorCode: $0.errorCode), $0) }, uniquingKeysWith: { a, _ in a })

    private static func e(_ api: Int16, _ code: Int16, _ name: String, _ v: Int16, _ source: String) -> ErrorCodeIntroduction {
        ErrorCodeIntroduction(apiKey: api, errorCode: code, errorName: name, minVersion: v, source: source)
    }

    /// The table, by API key.
    public static let all: [ErrorCodeIntroduction] = [
        // Produce (0)
        e(0, 56, "KAFKA_STORAGE_ERROR", 4, "ProduceResponse.json: Version 4 added KAFKA_STORAGE_ERROR as a possible error code (KIP-112)"),
        e(0, 120, "TRANSACTION_ABORTABLE", 11, "ProduceResponse.json: Version 11 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        e(0, 100, "UNKNOWN_TOPIC_ID", 13, "ProduceResponse.json: Version 13 replaces topic names with topic IDs (KIP-516)"),
        // Fetch (1)
        e(1, 56, "KAFKA_STORAGE_ERROR", 6, "FetchResponse.json: Starting in version 6, we may return KAFKA_STORAGE_ERROR (KIP-112)"),
        e(1, 70, "FETCH_SESSION_ID_NOT_FOUND", 7, "FetchRequest.json: Version 7 adds incremental fetch request support (KIP-227)"),
        e(1, 71, "INVALID_FETCH_SESSION_EPOCH", 7, "FetchRequest.json: Version 7 adds incremental fetch request support (KIP-227)"),
        e(1, 74, "FENCED_LEADER_EPOCH", 9, "FetchRequest.json: Version 9 adds CurrentLeaderEpoch, as described in KIP-320"),
        e(1, 75, "UNKNOWN_LEADER_EPOCH", 9, "FetchRequest.json: Version 9 adds CurrentLeaderEpoch, as described in KIP-320"),
        e(1, 100, "UNKNOWN_TOPIC_ID", 13, "FetchRequest.json: Version 13 replaces topic names with topic IDs (KIP-516)"),
        // ListOffsets (2)
        e(2, 74, "FENCED_LEADER_EPOCH", 4, "ListOffsetsRequest.json: Version 4 adds the current leader epoch, used for fencing (KIP-320)"),
        e(2, 75, "UNKNOWN_LEADER_EPOCH", 4, "ListOffsetsRequest.json: Version 4 adds the current leader epoch, used for fencing (KIP-320)"),
        e(2, 78, "OFFSET_NOT_AVAILABLE", 5, "ListOffsetsResponse.json: Version 5 adds a new error code, OFFSET_NOT_AVAILABLE (KIP-207)"),
        // OffsetCommit (8)
        e(8, 22, "ILLEGAL_GENERATION", 1, "OffsetCommitResponse.json: ILLEGAL_GENERATION (version 1+)"),
        e(8, 25, "UNKNOWN_MEMBER_ID", 1, "OffsetCommitResponse.json: UNKNOWN_MEMBER_ID (version 1+)"),
        e(8, 110, "FENCED_MEMBER_EPOCH", 7, "OffsetCommitResponse.json: FENCED_MEMBER_EPOCH (version 7+)"),
        e(8, 69, "GROUP_ID_NOT_FOUND", 9, "OffsetCommitResponse.json: GROUP_ID_NOT_FOUND (version 9+)"),
        e(8, 113, "STALE_MEMBER_EPOCH", 9, "OffsetCommitResponse.json: STALE_MEMBER_EPOCH (version 9+) (KIP-848)"),
        e(8, 100, "UNKNOWN_TOPIC_ID", 10, "OffsetCommitResponse.json: UNKNOWN_TOPIC_ID (version 10+)"),
        // OffsetFetch (9)
        e(9, 88, "UNSTABLE_OFFSET_COMMIT", 7, "OffsetFetchResponse.json: UNSTABLE_OFFSET_COMMIT (version 7+) (KIP-447)"),
        e(9, 25, "UNKNOWN_MEMBER_ID", 9, "OffsetFetchResponse.json: UNKNOWN_MEMBER_ID (version 9+) (KIP-848)"),
        e(9, 113, "STALE_MEMBER_EPOCH", 9, "OffsetFetchResponse.json: STALE_MEMBER_EPOCH (version 9+) (KIP-848)"),
        e(9, 100, "UNKNOWN_TOPIC_ID", 10, "OffsetFetchResponse.json: UNKNOWN_TOPIC_ID (version 10+)"),
        // FindCoordinator (10)
        e(10, 120, "TRANSACTION_ABORTABLE", 5, "FindCoordinatorResponse.json: Version 5 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        // JoinGroup (11), Heartbeat (12), SyncGroup (14): static membership and the member id round trip
        e(11, 79, "MEMBER_ID_REQUIRED", 4, "JoinGroupRequest.json: Starting from version 4, the client needs to issue a second request to join group (KIP-394)"),
        e(11, 82, "FENCED_INSTANCE_ID", 5, "JoinGroupRequest.json: Starting from version 5, we add a new field called groupInstanceId (KIP-345)"),
        e(12, 82, "FENCED_INSTANCE_ID", 3, "HeartbeatResponse.json: Starting from version 3, heartbeatRequest supports groupInstanceId (KIP-345)"),
        e(14, 82, "FENCED_INSTANCE_ID", 3, "SyncGroupResponse.json: Starting from version 3, syncGroupRequest supports groupInstanceId (KIP-345)"),
        // DescribeGroups (15)
        e(15, 69, "GROUP_ID_NOT_FOUND", 6, "DescribeGroupsResponse.json: Version 6 returns error code GROUP_ID_NOT_FOUND if the group ID is not found (KIP-1043)"),
        // CreateTopics (19), DeleteTopics (20), CreatePartitions (37)
        e(19, 89, "THROTTLING_QUOTA_EXCEEDED", 6, "CreateTopicsResponse.json: Version 6 ... may return a THROTTLING_QUOTA_EXCEEDED error (KIP-599)"),
        e(20, 73, "TOPIC_DELETION_DISABLED", 3, "DeleteTopicsResponse.json: Starting in version 3, a TOPIC_DELETION_DISABLED error code may be returned"),
        e(20, 89, "THROTTLING_QUOTA_EXCEEDED", 5, "DeleteTopicsResponse.json: Version 5 ... may return a THROTTLING_QUOTA_EXCEEDED error (KIP-599)"),
        e(37, 89, "THROTTLING_QUOTA_EXCEEDED", 3, "CreatePartitionsResponse.json: Version 3 ... may return a THROTTLING_QUOTA_EXCEEDED error (KIP-599)"),
        // Transactions: InitProducerId (22), AddPartitionsToTxn (24), AddOffsetsToTxn (25), EndTxn (26), TxnOffsetCommit (28)
        e(22, 90, "PRODUCER_FENCED", 4, "InitProducerIdResponse.json: Version 4 adds the support for new error code PRODUCER_FENCED (KIP-588)"),
        e(22, 120, "TRANSACTION_ABORTABLE", 5, "InitProducerIdResponse.json: Version 5 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        e(24, 90, "PRODUCER_FENCED", 2, "AddPartitionsToTxnResponse.json: Version 2 adds the support for new error code PRODUCER_FENCED (KIP-588)"),
        e(24, 120, "TRANSACTION_ABORTABLE", 5, "AddPartitionsToTxnResponse.json: Version 5 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        e(25, 90, "PRODUCER_FENCED", 2, "AddOffsetsToTxnResponse.json: Version 2 adds the support for new error code PRODUCER_FENCED (KIP-588)"),
        e(25, 120, "TRANSACTION_ABORTABLE", 4, "AddOffsetsToTxnResponse.json: Version 4 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        e(26, 90, "PRODUCER_FENCED", 2, "EndTxnResponse.json: Version 2 adds the support for new error code PRODUCER_FENCED (KIP-588)"),
        e(26, 120, "TRANSACTION_ABORTABLE", 4, "EndTxnResponse.json: Version 4 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        e(28, 120, "TRANSACTION_ABORTABLE", 4, "TxnOffsetCommitResponse.json: Version 4 adds support for new error code TRANSACTION_ABORTABLE (KIP-890)"),
        // ConsumerGroupHeartbeat (68)
        e(68, 128, "INVALID_REGULAR_EXPRESSION", 1, "ConsumerGroupHeartbeatResponse.json: INVALID_REGULAR_EXPRESSION (version 1+) (KIP-848)"),
    ]
}
