import KafkaProtocol

/// A Fetch exchange: where each partition was fetched from and what came back.
public struct FetchView: Sendable {
    /// How long the broker may hold the request waiting for `minBytes`.
    public var maxWaitMs: Int32
    /// How many bytes the client asked to wait for.
    public var minBytes: Int32
    /// 0 read_uncommitted, 1 read_committed.
    public var isolationLevel: Int8
    /// The fetch position of every partition the request covers: those it names, plus (for an
    /// incremental fetch session, KIP-227) those the session carries from earlier requests.
    public var positions: [TopicPartition: Int64]
    /// How long the broker said it throttled the answer (quotas), in ms.
    public var throttleTimeMs: Int32
    /// The response's top-level error code (v7+), 0 otherwise.
    public var errorCode: Int16
    /// The response's partitions, in response order; empty without a response.
    public var partitions: [FetchedPartition]
}

/// One partition of a Fetch response.
public struct FetchedPartition: Sendable {
    /// The topic and partition.
    public var partition: TopicPartition
    /// Where the request asked to start (from the request, or from the fetch session); nil when unknown.
    public var fetchOffset: Int64?
    /// The partition's error code.
    public var errorCode: Int16
    /// The offset up to which records are replicated (and visible to read_uncommitted consumers).
    public var highWatermark: Int64
    /// -1 before v4.
    public var lastStableOffset: Int64
    /// -1 before v5.
    public var logStartOffset: Int64
    /// -1 when absent (v11+: the broker redirects the consumer to another replica).
    public var preferredReadReplica: Int32
    /// Whether the response carries a diverging epoch (log truncation, KIP-320).
    public var hasDivergingEpoch: Bool
    /// The decoded records field; nil when it was null or empty.
    public var records: Result<KafkaRecordSet, KafkaDecodingError>?
    /// Bytes of the records field.
    public var recordBytes: Int
    /// Record bytes the response carried in partitions before this one (for the response size limit).
    public var recordBytesBefore: Int

    /// The decoded batches, empty when there were none or they did not decode.
    public var batches: [KafkaRecordBatch] {
        if case .success(let set)? = records { return set.batches }
        return []
    }
}
