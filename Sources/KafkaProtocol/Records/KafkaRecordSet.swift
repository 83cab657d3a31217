/// Everything in one `records` field: the batches (v2) and message-set entries (magic 0/1) in order.
public struct KafkaRecordSet: Hashable, Sendable {
    /// The complete batches and messages, in offset order as stored.
    public var batches: [KafkaRecordBatch]
    /// Size of an incomplete batch at the end. A broker may cut a fetch response at its size limit in the
    /// middle of a batch; Kafka's consumer ignores such a tail, so it is reported, not treated as an error.
    public var truncatedTailBytes: Int

    /// A record set of `batches`, with `truncatedTailBytes` of an incomplete batch after them.
    public init(batches: [KafkaRecordBatch] = [], truncatedTailBytes: Int = 0) {
        self.batches = batches
        self.truncatedTailBytes = truncatedTailBytes
    }

    /// All records of all batches, in order.
    public var records: [KafkaRecord] { batches.flatMap(\.records) }
}
