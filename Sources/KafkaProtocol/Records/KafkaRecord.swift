import NIOCore

/// One record of a batch, with its offset and timestamp made absolute.
///
/// Decoded keys, values and header values are slices of the buffer they were read from (or of the
/// batch's decompressed payload), so decoding copies no record data.
public struct KafkaRecord: Hashable, Sendable {
    /// Absolute offset: `baseOffset + offsetDelta` for v2; for legacy messages the message's offset
    /// (inner offsets of a v1 wrapper made absolute from the wrapper's offset).
    public var offset: Int64
    /// Absolute milliseconds: `baseTimestamp + timestampDelta` for v2, as written on the wire; -1 for
    /// magic 0. For a v2 batch with log-append time, Kafka consumers see the batch's `maxTimestamp`
    /// instead (see `KafkaRecordBatch.timestampType`); this field keeps the wire value so re-encoding is
    /// byte-exact. A v1 wrapper with log-append time overrides its inner timestamps, as Kafka does.
    public var timestamp: Int64
    /// The key; nil for a null key (distinct from an empty one).
    public var key: ByteBuffer?
    /// The value; nil for a null value (a tombstone on compacted topics), distinct from an empty one.
    public var value: ByteBuffer?
    /// Record headers (KIP-82), in order; legacy messages have none.
    public var headers: [KafkaRecordHeader]
    /// The record's own attributes byte (unused in v2, always 0 from Kafka clients); for legacy messages
    /// the message attributes.
    public var attributes: Int8

    /// A record with the given fields (defaults: offset 0, no timestamp, null key and value).
    public init(
        offset: Int64 = 0, timestamp: Int64 = -1, key: ByteBuffer? = nil, value: ByteBuffer? = nil,
        headers: [KafkaRecordHeader] = [], attributes: Int8 = 0
    ) {
        self.offset = offset
        self.timestamp = timestamp
        self.key = key
        self.value = value
        self.headers = headers
        self.attributes = attributes
    }
}
