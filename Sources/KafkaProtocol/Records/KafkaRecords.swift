import NIOCore

/// The `records` type of Kafka's message schemas: a sequence of v2 record batches (KIP-98) or of legacy
/// messages (magic 0 and 1, KIP-32), as Produce requests carry them and Fetch responses return them.
///
/// Decoding reads the layout of Kafka's `DefaultRecordBatch` and `LegacyRecord`; encoding writes what
/// Kafka's Java producer writes, so captures can be re-encoded and replayed.
public enum KafkaRecords {
    /// Offset int64 and length int32: what precedes every batch and legacy message (`LOG_OVERHEAD`).
    static let logOverhead = 12
    /// The smallest length field any entry can have: a magic-0 message of CRC, magic, attributes and two
    /// null lengths (`LegacyRecord.RECORD_OVERHEAD_V0`).
    static let minimumEntryLength: Int32 = 14
    /// A v2 batch header's bytes after the length field (`RECORD_BATCH_OVERHEAD - LOG_OVERHEAD`).
    static let v2HeaderLength: Int32 = 49
    /// The smallest v2 record: length, attributes, timestamp delta, offset delta, key length, value length,
    /// header count, one byte each.
    static let minimumRecordSize = 7
    /// The magic byte's position in a batch or legacy message.
    static let magicOffset = 16

    struct DecodeOptions {
        var verifyCRC: Bool
        var strict: Bool
        var maxDecompressedBytes: Int
    }

    /// Decodes every batch in a `records` field.
    ///
    /// - A batch cut short at the end of `buffer` (a broker fills a fetch response up to its size limit)
    ///   is not an error: its size is returned as `truncatedTailBytes`, as Kafka's consumer skips it. A
    ///   length field too small for any batch, or any inconsistency inside a complete batch, throws.
    /// - With `verifyCRC`, a CRC mismatch sets the batch's `crcValid` to false so the batch can still be
    ///   shown; with `strict` as well, it throws `.crcMismatch`.
    /// - Compressed payloads are decompressed up to `maxDecompressedBytes` per batch (or legacy wrapper);
    ///   a payload that would inflate beyond that throws `.compression`.
    ///
    /// Errors name the batch (`[2]`) and the field inside it in their path; offsets count from the start
    /// of `buffer`'s readable bytes, except inside a decompressed payload (path `decompressedRecords`),
    /// where they count from the start of the decompressed bytes.
    public static func decode(
        _ buffer: ByteBuffer, verifyCRC: Bool = true, maxDecompressedBytes: Int = 64 << 20, strict: Bool = false
    ) throws(KafkaDecodingError) -> KafkaRecordSet {
        // A ByteBuffer holds at most UInt32.max bytes; the codecs need room for one byte past the limit.
        let limit = min(max(0, maxDecompressedBytes), Int(UInt32.max) - 1)
        let options = DecodeOptions(verifyCRC: verifyCRC || strict, strict: strict, maxDecompressedBytes: limit)
        var reader = KafkaReader(buffer)
        var set = KafkaRecordSet()
        while reader.remaining > 0 {
            let index = set.batches.count
            do {
                guard let length = try nextEntryLength(reader) else {
                    set.truncatedTailBytes = reader.remaining
                    break
                }
                var entry = try reader.subReader(length: logOverhead + Int(length))
                set.batches.append(try decodeEntry(&entry, options: options))
            } catch {
                throw error.at(index: index)
            }
        }
        return set
    }

    /// The length field of the entry at the reader's position, or nil when the entry is incomplete.
    static func nextEntryLength(_ reader: KafkaReader) throws(KafkaDecodingError) -> Int32? {
        guard reader.remaining >= logOverhead,
            let length = reader.buffer.getInteger(at: reader.buffer.readerIndex + 8, endianness: .big, as: Int32.self)
        else { return nil }
        guard length >= minimumEntryLength else {
            throw KafkaDecodingError(
                .invalidRecords("length \(length) is shorter than any batch or message (\(minimumEntryLength) bytes)"),
                offset: reader.offset + 8
            ).at("batchLength")
        }
        guard Int(length) <= reader.remaining - logOverhead else { return nil }
        return length
    }

    /// Decodes one complete batch or legacy message; `entry` holds exactly its bytes.
    static func decodeEntry(_ entry: inout KafkaReader, options: DecodeOptions) throws(KafkaDecodingError)
        -> KafkaRecordBatch
    {
        let magic = entry.buffer.getInteger(at: entry.buffer.readerIndex + magicOffset, as: Int8.self) ?? -1
        switch magic {
        case 2:
            return try decodeV2(&entry, options: options)
        case 0, 1:
            return try decodeLegacy(&entry, options: options, nested: false)
        default:
            throw KafkaDecodingError(.invalidRecords("unknown magic \(magic)"), offset: entry.offset + magicOffset)
                .at("magic")
        }
    }

    /// Turns a codec failure into a decoding error at the compressed payload.
    static func decompress(
        _ payload: ByteBuffer, codec: KafkaCompression, at offset: Int, options: DecodeOptions,
        legacyLZ4HeaderChecksum: Bool = false
    ) throws(KafkaDecodingError) -> ByteBuffer {
        do {
            return try RecordCodec.decompress(
                payload, codec: codec, limit: options.maxDecompressedBytes,
                legacyLZ4HeaderChecksum: legacyLZ4HeaderChecksum)
        } catch {
            throw KafkaDecodingError(.compression(error.message), offset: offset)
        }
    }

    static func compress(_ payload: ByteBuffer, codec: KafkaCompression, legacyLZ4HeaderChecksum: Bool = false)
        throws(KafkaDecodingError) -> ByteBuffer
    {
        do {
            return try RecordCodec.compress(payload, codec: codec, legacyLZ4HeaderChecksum: legacyLZ4HeaderChecksum)
        } catch {
            throw KafkaDecodingError(.compression(error.message), offset: 0)
        }
    }
}
