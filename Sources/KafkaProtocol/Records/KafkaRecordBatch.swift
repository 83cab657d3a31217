import NIOCore

/// One v2 record batch (KIP-98), or one legacy message-set entry (magic 0 or 1): a plain message or a
/// compressed wrapper whose inner messages become `records`.
///
/// Legacy entries are mapped onto the v2 shape: `baseOffset` is the first record's absolute offset and
/// `baseOffset + lastOffsetDelta` is the entry's own offset field (for a wrapper, the last inner offset),
/// `batchLength` is the message size, `attributes` the message attributes byte, `baseTimestamp` and
/// `maxTimestamp` the message timestamp (-1 for magic 0), and the v2-only fields are -1.
public struct KafkaRecordBatch: Hashable, Sendable {
    /// The first record's offset (for legacy entries, see above).
    public var baseOffset: Int64
    /// Bytes after this field (v2), or the message size (legacy). Computed by the encoders.
    public var batchLength: Int32
    /// The leader epoch of the partition when the batch was appended (KIP-101); -1 when unknown or legacy.
    public var partitionLeaderEpoch: Int32
    /// The format: 2 for record batches, 0 or 1 for legacy messages.
    public var magic: Int8
    /// As stored: CRC-32C (v2) or CRC-32 (legacy). Computed by the encoders.
    public var crc: UInt32
    /// Compression (bits 0-2), timestamp type (bit 3), transactional (bit 4), control batch (bit 5).
    public var attributes: Int16
    /// The last record's offset minus `baseOffset` (kept even when compaction removed that record).
    public var lastOffsetDelta: Int32
    /// The first record's timestamp, in milliseconds.
    public var baseTimestamp: Int64
    /// The largest timestamp in the batch, or the append time with log-append time.
    public var maxTimestamp: Int64
    /// The idempotent or transactional producer's id (KIP-98); -1 for a plain producer.
    public var producerId: Int64
    /// The producer's epoch, which fences older instances of a transactional producer; -1 when none.
    public var producerEpoch: Int16
    /// The first record's sequence number for idempotent dedup; -1 when none.
    public var baseSequence: Int32
    /// The records, offsets and timestamps made absolute.
    public var records: [KafkaRecord]
    /// False only when the CRC was checked at decode and did not match (for a legacy wrapper, also when
    /// an inner message's CRC did not). True when decoding skipped the check (`verifyCRC: false`).
    public var crcValid: Bool

    /// A batch for encoding. Unset `lastOffsetDelta`, `baseTimestamp` and `maxTimestamp` are derived from
    /// `records` the way Kafka's producer does: last offset minus base, first timestamp, largest timestamp.
    public init(
        baseOffset: Int64 = 0, batchLength: Int32 = 0, partitionLeaderEpoch: Int32 = -1, magic: Int8 = 2,
        crc: UInt32 = 0, attributes: Int16 = 0, lastOffsetDelta: Int32? = nil, baseTimestamp: Int64? = nil,
        maxTimestamp: Int64? = nil, producerId: Int64 = -1, producerEpoch: Int16 = -1, baseSequence: Int32 = -1,
        records: [KafkaRecord] = [], crcValid: Bool = true
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta =
            lastOffsetDelta ?? records.last.map { Int32(truncatingIfNeeded: $0.offset &- baseOffset) } ?? 0
        self.baseTimestamp = baseTimestamp ?? records.first?.timestamp ?? -1
        self.maxTimestamp = maxTimestamp ?? records.map(\.timestamp).max() ?? -1
        self.producerId = producerId
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.records = records
        self.crcValid = crcValid
    }

    /// Attributes bits 0-2. An unknown codec (5-7) never decodes, so it only shows up in a hand-built
    /// batch; it reads as `.none`.
    public var compression: KafkaCompression {
        KafkaCompression(rawValue: Int8(attributes & 0x07)) ?? .none
    }

    /// Attributes bit 3 (v2 and magic 1).
    public var timestampType: KafkaTimestampType {
        if magic == 0 { return .noTimestamp }
        return attributes & 0x08 != 0 ? .logAppendTime : .createTime
    }

    /// Attributes bit 4 (v2 only).
    public var isTransactional: Bool { magic >= 2 && attributes & 0x10 != 0 }

    /// Attributes bit 5 (v2 only): the batch holds one control record (a transaction marker, or a KRaft
    /// control record).
    public var isControl: Bool { magic >= 2 && attributes & 0x20 != 0 }

    /// The offset of the last record the batch covered when written (compaction may have removed it).
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }

    /// True when a v2 batch's record count is not `lastOffsetDelta + 1`. Producers never write such a
    /// batch, but compaction leaves them, so this is reported rather than treated as an error.
    public var recordCountMismatch: Bool {
        magic >= 2 && Int64(records.count) != Int64(lastOffsetDelta) + 1
    }
}
