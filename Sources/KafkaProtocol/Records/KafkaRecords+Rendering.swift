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
        let set: KafkaRecordSet
        do {
            set = try decode(buffer)
        } catch {
            return .object(KafkaObject([("error", .string(error.description)), ("bytes", .bytes(buffer))]))
        }
        let batches = KafkaValue.array(set.batches.map(kafkaValue(_:)))
        guard set.truncatedTailBytes != 0 else { return batches }
        return .object(
            KafkaObject([("batches", batches), ("truncatedTailBytes", .int(Int64(set.truncatedTailBytes)))]))
    }

    public static func kafkaValue(_ batch: KafkaRecordBatch) -> KafkaValue {
        var o = KafkaObject()
        o.fields.reserveCapacity(20)
        o.append("baseOffset", .int(batch.baseOffset))
        o.append("batchLength", .int(Int64(batch.batchLength)))
        o.append("partitionLeaderEpoch", .int(Int64(batch.partitionLeaderEpoch)))
        o.append("magic", .int(Int64(batch.magic)))
        o.append("crc", .int(Int64(batch.crc)))
        o.append("crcValid", .bool(batch.crcValid))
        o.append("attributes", .int(Int64(batch.attributes)))
        o.append("compression", .string(batch.compression.name))
        o.append("timestampType", .string(batch.timestampType.name))
        o.append("transactional", .bool(batch.isTransactional))
        o.append("control", .bool(batch.isControl))
        o.append("lastOffsetDelta", .int(Int64(batch.lastOffsetDelta)))
        o.append("recordCount", .int(Int64(batch.records.count)))
        o.append("baseTimestamp", .int(batch.baseTimestamp))
        o.append("maxTimestamp", .int(batch.maxTimestamp))
        o.append("producerId", .int(batch.producerId))
        o.append("producerEpoch", .int(Int64(batch.producerEpoch)))
        o.append("baseSequence", .int(Int64(batch.baseSequence)))
        let control = batch.isControl
        o.append("records", .array(batch.records.map { kafkaValue($0, control: control) }))
        return .object(o)
    }

    static func kafkaValue(_ record: KafkaRecord, control: Bool) -> KafkaValue {
        var o = KafkaObject()
        o.append("offset", .int(record.offset))
        o.append("timestamp", .int(record.timestamp))
        o.append("key", record.key.map { .bytes($0) } ?? .null)
        o.append("value", record.value.map { .bytes($0) } ?? .null)
        o.append(
            "headers",
            .array(
                record.headers.map { h in
                    .object(KafkaObject([("key", .string(h.key)), ("value", h.value.map { .bytes($0) } ?? .null)]))
                }))
        if control, let c = KafkaControlRecord(record) {
            var co = KafkaObject()
            co.append("version", .int(Int64(c.version)))
            co.append("type", .string(c.typeName))
            if let epoch = c.coordinatorEpoch { co.append("coordinatorEpoch", .int(Int64(epoch))) }
            o.append("control", .object(co))
        }
        return .object(o)
    }
}
