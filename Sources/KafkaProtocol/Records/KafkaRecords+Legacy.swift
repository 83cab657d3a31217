import CCompression
import NIOCore

/// Legacy message sets (magic 0 and 1, before KIP-98): Kafka's `LegacyRecord`.
///
/// ```
/// offset int64, messageSize int32, crc uint32 (CRC-32 of magic..end), magic int8, attributes int8,
/// [timestamp int64, magic 1 only], key bytes (int32 length), value bytes (int32 length)
/// ```
/// A compressed message is a wrapper: its value is a compressed message set of uncompressed inner
/// messages. A magic-1 wrapper's inner offsets are relative (KIP-31): the wrapper carries the absolute
/// offset of the last one.
extension KafkaRecords {
    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return 0 }
        return UInt32(truncatingIfNeeded: crc32_z(0, base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count)))
    }

    static func decodeLegacy(_ r: inout KafkaReader, options: DecodeOptions, nested: Bool) throws(KafkaDecodingError)
        -> KafkaRecordBatch
    {
        let offset = try r.readInt64()
        let sizeOffset = r.offset
        let size = try r.readInt32()
        let crcOffset = r.offset
        let crc = try r.readUInt32()
        var crcValid = true
        if options.verifyCRC {
            let actual = r.buffer.withUnsafeReadableBytes { crc32($0) }
            crcValid = actual == crc
            if !crcValid && options.strict {
                throw KafkaDecodingError(.crcMismatch(expected: crc, actual: actual), offset: crcOffset).at("crc")
            }
        }
        let magic = try r.readInt8()
        let attributesOffset = r.offset
        let attributes = try r.readInt8()
        let headerSize: Int32 = magic == 0 ? 14 : 22
        guard size >= headerSize else {
            throw KafkaDecodingError(
                .invalidRecords("magic \(magic) message size \(size) is shorter than its \(headerSize)-byte header"),
                offset: sizeOffset
            ).at("batchLength")
        }
        let timestamp = try magic >= 1 ? r.readInt64() : -1
        let key: ByteBuffer?
        do { key = try r.readNullableBytes(compact: false) } catch { throw error.at("key") }
        let valueOffset = r.offset + 4
        let value: ByteBuffer?
        do { value = try r.readNullableBytes(compact: false) } catch { throw error.at("value") }
        guard r.remaining == 0 else {
            throw KafkaDecodingError(
                .invalidRecords("\(r.remaining) bytes follow the message's value"), offset: r.offset)
        }

        let codecBits = Int8(attributes & 0x07)
        guard let codec = KafkaCompression(rawValue: codecBits), codec != .zstd else {
            let why = codecBits == 4 ? "zstd requires magic 2" : "unknown compression codec \(codecBits)"
            throw KafkaDecodingError(.invalidRecords(why), offset: attributesOffset).at("attributes")
        }
        var records: [KafkaRecord]
        if codec == .none {
            records = [
                KafkaRecord(offset: offset, timestamp: timestamp, key: key, value: value, attributes: attributes)
            ]
        } else {
            guard !nested else {
                throw KafkaDecodingError(
                    .invalidRecords("compressed message inside a compressed wrapper"), offset: attributesOffset
                )
                .at("attributes")
            }
            guard let value else {
                throw KafkaDecodingError(
                    .invalidRecords("compressed wrapper with a null value"), offset: valueOffset - 4
                )
                .at("value")
            }
            let data: ByteBuffer
            do {
                data = try decompress(
                    value, codec: codec, at: valueOffset, options: options, legacyLZ4HeaderChecksum: magic == 0)
            } catch {
                throw error.at("value")
            }
            var inner = KafkaReader(data)
            records = []
            while inner.remaining > 0 {
                let index = records.count
                do throws(KafkaDecodingError) {
                    guard let length = try nextEntryLength(inner) else {
                        throw KafkaDecodingError(
                            .invalidRecords("inner message set ends in a partial message (\(inner.remaining) bytes)"),
                            offset: inner.offset)
                    }
                    var entry = try inner.subReader(length: logOverhead + Int(length))
                    let innerMagic =
                        entry.buffer.getInteger(at: entry.buffer.readerIndex + magicOffset, as: Int8.self) ?? -1
                    guard innerMagic == 0 || innerMagic == 1 else {
                        throw KafkaDecodingError(
                            .invalidRecords("inner message has magic \(innerMagic)"), offset: entry.offset + magicOffset
                        ).at("magic")
                    }
                    let message = try decodeLegacy(&entry, options: options, nested: true)
                    crcValid = crcValid && message.crcValid
                    records.append(contentsOf: message.records)
                } catch {
                    throw error.at(index: index).at("decompressedRecords")
                }
            }
            if magic >= 1 {
                // KIP-31: absolute = wrapper offset - last inner (relative) offset + inner offset.
                if let last = records.last {
                    let shift = offset &- last.offset
                    for i in records.indices { records[i].offset &+= shift }
                }
                // With log-append time, the wrapper's timestamp is every inner message's timestamp.
                if attributes & 0x08 != 0 {
                    for i in records.indices { records[i].timestamp = timestamp }
                }
            }
        }

        let base = records.first?.offset ?? offset
        return KafkaRecordBatch(
            baseOffset: base, batchLength: size, partitionLeaderEpoch: -1, magic: magic, crc: crc,
            attributes: Int16(UInt8(bitPattern: attributes)),
            lastOffsetDelta: Int32(truncatingIfNeeded: offset &- base),
            baseTimestamp: timestamp, maxTimestamp: timestamp, producerId: -1, producerEpoch: -1, baseSequence: -1,
            records: records, crcValid: crcValid)
    }

    // MARK: Encoding

    /// Encodes legacy message sets (magic 0 or 1) with CRC-32 (zlib crc32), optionally compressed into a
    /// wrapper message.
    ///
    /// Offsets are assigned from `baseOffset` in order (the records' own offsets are ignored), as Kafka's
    /// `MemoryRecordsBuilder` does. Uncompressed, each record becomes one message. Compressed, the records
    /// become inner messages (offsets relative from 0 for magic 1, absolute for magic 0) of one wrapper
    /// at the last offset, whose magic-1 timestamp is the largest record timestamp. Magic 0 writes no
    /// timestamps, and its LZ4 frames carry the header checksum bug of Kafka's magic-0 writer
    /// (KAFKA-3160). Records with headers, zstd, and magics other than 0 and 1 throw.
    public static func encodeLegacy(
        _ records: [KafkaRecord], magic: Int8, compression: KafkaCompression, baseOffset: Int64
    ) throws(KafkaDecodingError) -> ByteBuffer {
        guard magic == 0 || magic == 1 else {
            throw KafkaDecodingError(.invalidValue("legacy magic must be 0 or 1, not \(magic)"), offset: 0)
        }
        guard compression != .zstd else {
            throw KafkaDecodingError(.invalidRecords("zstd requires magic 2"), offset: 0)
        }
        if let i = records.firstIndex(where: { !$0.headers.isEmpty }) {
            throw KafkaDecodingError(.invalidRecords("record headers require magic 2"), offset: 0)
                .at("headers").at(index: i)
        }
        var w = KafkaWriter(capacity: records.count * 34 + estimatedSize(records))
        if compression == .none {
            for (i, record) in records.enumerated() {
                try writeLegacyMessage(
                    to: &w, offset: baseOffset &+ Int64(i), magic: magic, attributes: record.attributes & ~0x07,
                    timestamp: record.timestamp, key: record.key, value: record.value)
            }
            return w.buffer
        }
        var inner = KafkaWriter(capacity: records.count * 34 + estimatedSize(records))
        for (i, record) in records.enumerated() {
            try writeLegacyMessage(
                to: &inner, offset: magic == 0 ? baseOffset &+ Int64(i) : Int64(i), magic: magic,
                attributes: record.attributes & ~0x07, timestamp: record.timestamp, key: record.key, value: record.value
            )
        }
        let compressed = try compress(inner.buffer, codec: compression, legacyLZ4HeaderChecksum: magic == 0)
        try writeLegacyMessage(
            to: &w, offset: baseOffset &+ Int64(max(records.count - 1, 0)), magic: magic,
            attributes: compression.rawValue, timestamp: records.map(\.timestamp).max() ?? -1, key: nil,
            value: compressed)
        return w.buffer
    }

    static func writeLegacyMessage(
        to w: inout KafkaWriter, offset: Int64, magic: Int8, attributes: Int8, timestamp: Int64, key: ByteBuffer?,
        value: ByteBuffer?
    ) throws(KafkaDecodingError) {
        w.writeInt64(offset)
        let sizeAt = w.buffer.writerIndex
        w.writeInt32(0)
        let crcAt = w.buffer.writerIndex
        w.writeUInt32(0)
        let magicAt = w.buffer.writerIndex
        w.writeInt8(magic)
        w.writeInt8(attributes)
        if magic >= 1 { w.writeInt64(timestamp) }
        w.writeNullableBytes(key, compact: false)
        w.writeNullableBytes(value, compact: false)
        guard let size = Int32(exactly: w.buffer.writerIndex - crcAt) else {
            throw KafkaDecodingError(.invalidValue("message larger than 2 GiB"), offset: 0)
        }
        w.buffer.setInteger(size, at: sizeAt, endianness: .big)
        let from = magicAt - w.buffer.readerIndex
        let crc = w.buffer.withUnsafeReadableBytes { crc32(UnsafeRawBufferPointer(rebasing: $0[from...])) }
        w.buffer.setInteger(crc, at: crcAt, endianness: .big)
    }
}
