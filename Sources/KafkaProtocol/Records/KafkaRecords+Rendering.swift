import NIOCore

extension KafkaRecords {
    /// A generic tree for JSON rendering.
    ///
    /// An array with one object per batch (keys `baseOffset`, `batchLength`, `partitionLeaderEpoch`,
    /// `magic`, `crc`, `crcValid`, `attributes`, `compression`, `timestampType`, `transactional`,
    /// `control`, `lastOffsetDelta`, `recordCount`, `baseTimestamp`, `maxTimestamp`, `producerId`,
    /// `producerEpoch`, `baseSequence`, `records`), each record an object of `offset`, `timestamp`, `key`,
    /// `value`, `headers` (`[{key, value}]`), plus `control` (`{version, type, coordinatorEpoch}`) for the
    /// record of a control batch.
    ///
    /// When the set ends in a truncated batch the result is an object instead:
    /// `{"batches": [...], "truncatedTailBytes": n}`. On a decoding error it is
    /// `{"error": description, "bytes": raw}`; this never throws.
    public static func kafkaValue(_ buffer: ByteBuffer) -> KafkaValue {
        var tree = KafkaValueTreeBuilder()
        render(buffer, into: &tree)
        return tree.result
    }

    /// One batch as a tree (its header fields, then its records), as `kafkatape dump` renders records fields.
    public static func kafkaValue(_ batch: KafkaRecordBatch) -> KafkaValue {
        var tree = KafkaValueTreeBuilder()
        render(batch, into: &tree)
        return tree.result
    }

    /// The one description of the rendering above, as events.
    static func render<W: KafkaValueWriter>(_ buffer: ByteBuffer, into w: inout W) {
        let set: KafkaRecordSet
        do {
            set = try decode(buffer)
        } catch {
            w.beginObject()
            w.field("error", error.description)
            w.field("bytes", buffer)
            w.endObject()
            return
        }
        let truncated = set.truncatedTailBytes != 0
        if truncated {
            w.beginObject()
            w.key("batches")
        }
        w.beginArray()
        for batch in set.batches { render(batch, into: &w) }
        w.endArray()
        if truncated {
            w.field("truncatedTailBytes", Int64(set.truncatedTailBytes))
            w.endObject()
        }
    }

    static func render<W: KafkaValueWriter>(_ batch: KafkaRecordBatch, into w: inout W) {
        w.beginObject()
        w.field("baseOffset", batch.baseOffset)
        w.field("batchLength", Int64(batch.batchLength))
        w.field("partitionLeaderEpoch", Int64(batch.partitionLeaderEpoch))
        w.field("magic", Int64(batch.magic))
        w.field("crc", Int64(batch.crc))
        w.field("crcValid", batch.crcValid)
        w.field("attributes", Int64(batch.attributes))
        w.field("compression", batch.compression.name)
        w.field("timestampType", batch.timestampType.name)
        w.field("transactional", batch.isTransactional)
        w.field("control", batch.isControl)
        w.field("lastOffsetDelta", Int64(batch.lastOffsetDelta))
        w.field("recordCount", Int64(batch.records.count))
        w.field("baseTimestamp", batch.baseTimestamp)
        w.field("maxTimestamp", batch.maxTimestamp)
        w.field("producerId", batch.producerId)
        w.field("producerEpoch", Int64(batch.producerEpoch))
        w.field("baseSequence", Int64(batch.baseSequence))
        w.key("records")
        w.beginArray()
        for record in batch.records { render(record, control: batch.isControl, into: &w) }
        w.endArray()
        w.endObject()
    }

    static func render<W: KafkaValueWriter>(_ record: KafkaRecord, control: Bool, into w: inout W) {
        w.beginObject()
        w.field("offset", record.offset)
        w.field("timestamp", record.timestamp)
        w.field("key", record.key)
        w.field("value", record.value)
        w.key("headers")
        w.beginArray()
        for h in record.headers {
            w.beginObject()
            w.field("key", h.key)
            w.field("value", h.value)
            w.endObject()
        }
        w.endArray()
        if control, let c = KafkaControlRecord(record) {
            w.key("control")
            w.beginObject()
            w.field("version", Int64(c.version))
            w.field("type", c.typeName)
            if let epoch = c.coordinatorEpoch { w.field("coordinatorEpoch", Int64(epoch)) }
            w.endObject()
        }
        w.endObject()
    }
}
