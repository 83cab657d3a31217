import NIOCore

/// Record batch v2 (magic 2, KIP-98): Kafka's `DefaultRecordBatch` and `DefaultRecord`.
///
/// ```
/// baseOffset int64, batchLength int32, partitionLeaderEpoch int32, magic int8, crc uint32,
/// attributes int16, lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64,
/// producerId int64, producerEpoch int16, baseSequence int32, records [Record] (count int32)
/// Record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
///         key varint-bytes, value varint-bytes, headers [key varint-string, value varint-bytes] (count varint)
/// ```
/// The CRC is CRC-32C over attributes to the end; with compression, everything after the record count
/// is one compressed stream.
extension KafkaRecords {
    /// Byte positions inside a v2 batch.
    enum V2 {
        static let lengthAt = 8
        static let crcAt = 17
        static let attributesAt = 21
        static let producerIdAt = 43
        static let producerEpochAt = 51
        static let baseSequenceAt = 53
        static let headerSize = 61
    }

    static func decodeV2(_ r: inout KafkaReader, options: DecodeOptions) throws(KafkaDecodingError)
        -> KafkaRecordBatch
    {
        var batch = KafkaRecordBatch()
        batch.baseOffset = try r.readInt64()
        let lengthOffset = r.offset
        batch.batchLength = try r.readInt32()
        guard batch.batchLength >= v2HeaderLength else {
            throw KafkaDecodingError(
                .invalidRecords(
                    "v2 batch length \(batch.batchLength) is shorter than its \(v2HeaderLength)-byte header"),
                offset: lengthOffset
            ).at("batchLength")
        }
        batch.partitionLeaderEpoch = try r.readInt32()
        batch.magic = try r.readInt8()
        let crcOffset = r.offset
        batch.crc = try r.readUInt32()
        if options.verifyCRC {
            let actual = r.buffer.withUnsafeReadableBytes { CRC32C.update(0, $0) }
            batch.crcValid = actual == batch.crc
            if !batch.crcValid && options.strict {
                throw KafkaDecodingError(.crcMismatch(expected: batch.crc, actual: actual), offset: crcOffset).at("crc")
            }
        }
        let attributesOffset = r.offset
        batch.attributes = try r.readInt16()
        batch.lastOffsetDelta = try r.readInt32()
        batch.baseTimestamp = try r.readInt64()
        batch.maxTimestamp = try r.readInt64()
        batch.producerId = try r.readInt64()
        batch.producerEpoch = try r.readInt16()
        batch.baseSequence = try r.readInt32()
        let countOffset = r.offset
        let count = try r.readInt32()
        guard count >= 0 else {
            throw KafkaDecodingError(.invalidRecords("negative record count \(count)"), offset: countOffset)
                .at("recordCount")
        }
        guard let codec = KafkaCompression(rawValue: Int8(batch.attributes & 0x07)) else {
            throw KafkaDecodingError(
                .invalidRecords("unknown compression codec \(batch.attributes & 0x07)"), offset: attributesOffset
            ).at("attributes")
        }

        let records: ByteBuffer
        let recordsOffset: Int
        let path: String
        // Kafka reads nothing of an empty batch's payload (a compressor's empty stream is not empty).
        if codec != .none && count == 0 { return batch }
        if codec == .none {
            records = r.buffer
            recordsOffset = r.offset
            path = "records"
        } else {
            do {
                records = try decompress(r.buffer, codec: codec, at: r.offset, options: options)
            } catch {
                throw error.at("records")
            }
            recordsOffset = 0
            path = "decompressedRecords"
        }
        // Every record takes at least 7 bytes, so a larger count cannot be honest: reject it before
        // reserving anything.
        guard Int(count) <= records.readableBytes / minimumRecordSize else {
            throw KafkaDecodingError(
                .invalidRecords("record count \(count) cannot fit in \(records.readableBytes) bytes"),
                offset: countOffset
            ).at("recordCount")
        }
        batch.records = try RecordParser.records(
            in: records, count: Int(count), startOffset: recordsOffset, baseOffset: batch.baseOffset,
            baseTimestamp: batch.baseTimestamp, path: path)
        return batch
    }

    // MARK: Encoding

    /// Encodes a v2 batch: compresses records with `compression`, computes length and CRC-32C.
    ///
    /// Header fields are written as `batch` holds them (build one with `KafkaRecordBatch.init`, which derives
    /// `lastOffsetDelta` and the timestamps from the records), except: magic is always 2, the codec bits of
    /// `attributes` come from `compression`, and the record count, `batchLength` and `crc` are computed.
    /// Each record's offset and timestamp are written as deltas from `baseOffset` and `baseTimestamp`; an
    /// offset more than Int32 away from `baseOffset` throws `.invalidValue`.
    public static func encodeBatch(_ batch: KafkaRecordBatch, compression: KafkaCompression)
        throws(KafkaDecodingError) -> ByteBuffer
    {
        guard let count = Int32(exactly: batch.records.count) else {
            throw KafkaDecodingError(.invalidValue("too many records for one batch"), offset: 0)
        }
        var compressed: ByteBuffer?
        if compression != .none {
            var plain = KafkaWriter(capacity: estimatedSize(batch.records))
            try writeRecords(batch, to: &plain)
            do { compressed = try compress(plain.buffer, codec: compression) } catch { throw error.at("records") }
        }
        var w = KafkaWriter(capacity: V2.headerSize + (compressed?.readableBytes ?? estimatedSize(batch.records)))
        w.writeInt64(batch.baseOffset)
        w.writeInt32(0)  // batchLength, patched below
        w.writeInt32(batch.partitionLeaderEpoch)
        w.writeInt8(2)
        w.writeUInt32(0)  // crc, patched below
        w.writeInt16((batch.attributes & ~0x07) | Int16(compression.rawValue))
        w.writeInt32(batch.lastOffsetDelta)
        w.writeInt64(batch.baseTimestamp)
        w.writeInt64(batch.maxTimestamp)
        w.writeInt64(batch.producerId)
        w.writeInt16(batch.producerEpoch)
        w.writeInt32(batch.baseSequence)
        w.writeInt32(count)
        if let compressed {
            w.writeRaw(compressed)
        } else {
            try writeRecords(batch, to: &w)
        }

        let start = w.buffer.readerIndex
        guard let length = Int32(exactly: w.buffer.readableBytes - logOverhead) else {
            throw KafkaDecodingError(.invalidValue("batch larger than 2 GiB"), offset: 0)
        }
        w.buffer.setInteger(length, at: start + V2.lengthAt, endianness: .big)
        let crc = w.buffer.withUnsafeReadableBytes {
            CRC32C.update(0, UnsafeRawBufferPointer(rebasing: $0[V2.attributesAt...]))
        }
        w.buffer.setInteger(crc, at: start + V2.crcAt, endianness: .big)
        return w.buffer
    }

    static func estimatedSize(_ records: [KafkaRecord]) -> Int {
        var n = 0
        for r in records {
            n += 24 + (r.key?.readableBytes ?? 0) + (r.value?.readableBytes ?? 0)
            for h in r.headers { n += 10 + h.key.utf8.count + (h.value?.readableBytes ?? 0) }
        }
        return n
    }

    static func writeRecords(_ batch: KafkaRecordBatch, to w: inout KafkaWriter) throws(KafkaDecodingError) {
        for (i, record) in batch.records.enumerated() {
            let (delta, overflow) = record.offset.subtractingReportingOverflow(batch.baseOffset)
            guard !overflow, let offsetDelta = Int32(exactly: delta) else {
                throw KafkaDecodingError(
                    .invalidValue("offset \(record.offset) is too far from baseOffset \(batch.baseOffset)"), offset: 0
                ).at("offset").at(index: i).at("records")
            }
            let timestampDelta = record.timestamp &- batch.baseTimestamp
            func bytesSize(_ b: ByteBuffer?) -> Int {
                guard let b else { return 1 }
                return VarintSize.of(Int32(truncatingIfNeeded: b.readableBytes)) + b.readableBytes
            }
            var size = 1 + VarintSize.of(timestampDelta) + VarintSize.of(offsetDelta)
            size += bytesSize(record.key) + bytesSize(record.value)
            size += VarintSize.of(Int32(truncatingIfNeeded: record.headers.count))
            for h in record.headers {
                let n = h.key.utf8.count
                size += VarintSize.of(Int32(truncatingIfNeeded: n)) + n + bytesSize(h.value)
            }
            guard let length = Int32(exactly: size) else {
                let e = KafkaDecodingError(.invalidValue("record larger than 2 GiB"), offset: 0)
                throw e.at(index: i).at("records")
            }
            w.writeVarint(length)
            w.writeInt8(record.attributes)
            w.writeVarlong(timestampDelta)
            w.writeVarint(offsetDelta)
            w.writeVarintBytes(record.key)
            w.writeVarintBytes(record.value)
            w.writeVarint(Int32(truncatingIfNeeded: record.headers.count))
            for h in record.headers {
                w.writeVarint(Int32(truncatingIfNeeded: h.key.utf8.count))
                w.buffer.writeString(h.key)
                w.writeVarintBytes(h.value)
            }
        }
    }
}
