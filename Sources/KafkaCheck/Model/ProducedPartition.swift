import KafkaProtocol

/// One partition of a Produce exchange: what the request carried and what the response assigned.
public struct ProducedPartition: Sendable {
    /// The topic and partition produced to.
    public var partition: TopicPartition
    /// The decoded records field; nil when the field was null.
    public var records: Result<KafkaRecordSet, KafkaDecodingError>?
    /// Records in the request (over all batches), 0 when they did not decode.
    public var recordCount: Int
    /// The response's error code for the partition; nil without a response or when the partition is missing from it.
    public var errorCode: Int16?
    /// The base offset the response assigned (valid when `errorCode == 0`).
    public var baseOffset: Int64?
    /// The response's LogAppendTime, or -1 when the topic uses CreateTime.
    public var logAppendTimeMs: Int64
    /// The request's acks.
    public var acks: Int16
    /// Whether the request belongs to a transaction.
    public var transactional: Bool
    /// The first batch's producer id, epoch and base sequence (idempotent producers), or -1.
    public var producerId: Int64
    /// The first batch's producer epoch, or -1.
    public var producerEpoch: Int16
    /// The first batch's base sequence, or -1.
    public var baseSequence: Int32
    /// The batches' CRCs combined (0 when they did not decode): a retry re-sends the same batch, with
    /// the same CRC, while another producer's batch under the same producer id and sequence differs.
    public var batchesCRC: UInt32 = 0

    /// Whether the broker accepted the records and said where they went.
    public var assigned: Bool { errorCode == 0 && (baseOffset ?? -1) >= 0 && recordCount > 0 }
    /// One past the last assigned offset.
    public var endOffset: Int64? { assigned ? (baseOffset ?? 0).adding(Int64(recordCount)) : nil }
}
