import NIOCore
import Testing

@testable import KafkaProtocol

@Suite("Record batches: malformed input")
struct RecordMalformedTests {
    static func twoBatches() throws -> (ByteBuffer, Int) {
        var buffer = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 0, records: RecordSamples.many(6)), compression: .none)
        let first = buffer.readableBytes
        var second = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 6, records: RecordSamples.many(4, baseOffset: 6)), compression: .gzip)
        buffer.writeBuffer(&second)
        return (buffer, first)
    }

    /// The decoding error `body` throws, or nil. Any other error type is a test failure.
    static func error(_ body: () throws -> Void) -> KafkaDecodingError? {
        do {
            try body()
            return nil
        } catch let error as KafkaDecodingError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func everyCutPointLeavesOnlyATruncatedTail() throws {
        let (buffer, first) = try Self.twoBatches()
        for cut in 0..<buffer.readableBytes {
            let prefix = try #require(buffer.getSlice(at: buffer.readerIndex, length: cut))
            let set = try KafkaRecords.decode(prefix)
            let complete = cut >= first ? 1 : 0
            #expect(set.batches.count == complete, "cut at \(cut)")
            #expect(set.truncatedTailBytes == cut - (complete == 1 ? first : 0), "cut at \(cut)")
        }
        #expect(try KafkaRecords.decode(buffer).batches.count == 2)
    }

    @Test func truncatedTailIsRenderedWithItsSize() throws {
        let (buffer, first) = try Self.twoBatches()
        let length = first + 40
        let prefix = try #require(buffer.getSlice(at: buffer.readerIndex, length: length))
        let value = KafkaRecords.kafkaValue(prefix)
        #expect(value["truncatedTailBytes"]?.intValue == 40)
        #expect(value["batches"]?.arrayValue?.count == 1)
    }

    @Test func aLengthTooSmallForAnyBatchIsAnError() throws {
        var (buffer, _) = try Self.twoBatches()
        buffer.setInteger(Int32(10), at: 8)
        let e = Self.error { _ = try KafkaRecords.decode(buffer) }
        #expect(e?.kind.isInvalidRecords == true)
        #expect(e?.pathString == "[0].batchLength")
        #expect(e?.offset == 8)

        var v2 = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(2)), compression: .none)
        v2.setInteger(Int32(30), at: 8)  // enough for a legacy message, not for a v2 header
        #expect(Self.error { _ = try KafkaRecords.decode(v2) }?.kind.isInvalidRecords == true)
    }

    @Test func aCorruptedLengthInsideABatchIsAnError() throws {
        let (buffer, first) = try Self.twoBatches()
        // The first batch claims one byte less: its last record runs past its end.
        var shorter = buffer
        shorter.setInteger(Int32(first - 12 - 1), at: 8)
        #expect(Self.error { _ = try KafkaRecords.decode(shorter) } != nil)
        // A record length varint that disagrees with the record's fields.
        var batch = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(2)), compression: .none)
        let recordLength = try #require(batch.getInteger(at: 61, as: UInt8.self))
        batch.setInteger(recordLength &+ 2, at: 61)  // zig-zag: one more byte
        let e = Self.error { _ = try KafkaRecords.decode(batch) }
        #expect(e != nil)
        #expect(e?.pathString.hasPrefix("[0].records[0]") == true)
    }

    @Test func badCRCIsReportedNotThrown() throws {
        var header = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(5)), compression: .none)
        header.setInteger(Int64(99), at: 27)  // baseTimestamp, covered by the CRC
        let set = try KafkaRecords.decode(header)
        #expect(set.batches.first?.crcValid == false)
        #expect(set.batches.first?.records.count == 5)
        #expect(KafkaRecords.kafkaValue(header).arrayValue?.first?["crcValid"] == .bool(false))
        // Without verification the CRC is not looked at.
        #expect(try KafkaRecords.decode(header, verifyCRC: false).batches.first?.crcValid == true)
        // Strict decoding throws.
        let e = Self.error { _ = try KafkaRecords.decode(header, strict: true) }
        guard case .crcMismatch(let stored, let actual)? = e?.kind else {
            Issue.record("expected a CRC mismatch, got \(String(describing: e))")
            return
        }
        #expect(stored != actual)
        #expect(e?.pathString == "[0].crc")
        #expect(e?.offset == 17)
    }

    @Test func badLegacyCRCIsReported() throws {
        var legacy = try KafkaRecords.encodeLegacy(
            [KafkaRecord(key: RecordSamples.bytes("k"), value: RecordSamples.bytes("v"))], magic: 1,
            compression: .none, baseOffset: 0)
        legacy.setInteger(UInt8(ascii: "w"), at: legacy.readableBytes - 1)
        #expect(try KafkaRecords.decode(legacy).batches.first?.crcValid == false)
        #expect(Self.error { _ = try KafkaRecords.decode(legacy, strict: true) } != nil)
    }

    @Test(arguments: [Int8(3), 4, -1, 127])
    func badMagicIsAnError(magic: Int8) throws {
        var batch = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(2)), compression: .none)
        batch.setInteger(magic, at: 16)
        let e = Self.error { _ = try KafkaRecords.decode(batch) }
        #expect(e?.kind == .invalidRecords("unknown magic \(magic)"))
        #expect(e?.pathString == "[0].magic")
        #expect(KafkaRecords.kafkaValue(batch)["error"]?.stringValue?.contains("unknown magic") == true)
        #expect(KafkaRecords.kafkaValue(batch)["bytes"] == .bytes(batch))
    }

    @Test(arguments: [Int32.max, 1_000_000, 3, -1, Int32.min])
    func impossibleRecordCountsAreErrors(count: Int32) throws {
        var batch = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(2)), compression: .none)
        batch.setInteger(count, at: 57)
        let e = Self.error { _ = try KafkaRecords.decode(batch) }
        #expect(e != nil)
        if count < 0 || count > 1000 {
            #expect(e?.kind.isInvalidRecords == true)
            #expect(e?.pathString == "[0].recordCount")
        }
    }

    @Test func hugeCompressedRecordCountIsAnErrorAfterBoundedDecompression() throws {
        var batch = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(2)), compression: .zstd)
        batch.setInteger(Int32.max, at: 57)
        let e = Self.error { _ = try KafkaRecords.decode(batch) }
        #expect(e?.pathString == "[0].recordCount")
    }

    @Test func invalidVarintsAreErrors() throws {
        // A record length of six continuation bytes.
        let tooLong = RecordSamples.rawV2Batch(count: 1, payload: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0])
        let varintError = Self.error { _ = try KafkaRecords.decode(tooLong) }
        #expect(varintError?.kind == .invalidVarint)
        #expect(varintError?.offset == 61)
        #expect(varintError?.pathString == "[0].records[0].length")
        // A varint cut off at the end of the batch.
        let cut = RecordSamples.rawV2Batch(count: 1, payload: [0x0E, 0, 0, 0, 0x80, 0x80, 0x80])
        #expect(Self.error { _ = try KafkaRecords.decode(cut) } != nil)
        // A negative record length.
        let negative = RecordSamples.rawV2Batch(count: 1, payload: [0x03, 0, 0, 0, 0, 0, 0])
        #expect(Self.error { _ = try KafkaRecords.decode(negative) }?.kind == .negativeLength(-2))
        // A key length below -1, and one past the record.
        let badKey = RecordSamples.rawV2Batch(count: 1, payload: [0x0C, 0, 0, 0, 0x05, 0, 0])
        #expect(Self.error { _ = try KafkaRecords.decode(badKey) }?.pathString == "[0].records[0].key")
        let longKey = RecordSamples.rawV2Batch(count: 1, payload: [0x0C, 0, 0, 0, 0x7E, 0, 0])
        #expect(Self.error { _ = try KafkaRecords.decode(longKey) } != nil)
        // A header count no record could hold, and a header key that is not UTF-8.
        let headers = RecordSamples.rawV2Batch(count: 1, payload: [0x0C, 0, 0, 0, 0x01, 0x01, 0x7E])
        #expect(Self.error { _ = try KafkaRecords.decode(headers) }?.pathString == "[0].records[0].headers")
        let utf8 = RecordSamples.rawV2Batch(
            count: 1, payload: [0x14, 0, 0, 0, 0x01, 0x01, 0x02, 0x04, 0xC3, 0x28, 0x01])
        #expect(Self.error { _ = try KafkaRecords.decode(utf8) }?.kind == .invalidUTF8)
        // Bytes left over after the declared records.
        let trailing = RecordSamples.rawV2Batch(count: 1, payload: [0x0C, 0, 0, 0, 0x01, 0x01, 0x00, 0xAA])
        #expect(Self.error { _ = try KafkaRecords.decode(trailing) }?.kind.isInvalidRecords == true)
        // And a well-formed minimal record, to show the payloads above are only wrong where intended.
        let ok = RecordSamples.rawV2Batch(count: 1, payload: [0x0C, 0, 0, 0, 0x01, 0x01, 0x00])
        #expect(try KafkaRecords.decode(ok).records == [KafkaRecord(offset: 0, timestamp: 0)])
    }

    @Test func anEmptyCompressedBatchsPayloadIsNotRead() throws {
        // As Kafka's DefaultRecordBatch: a count of 0 means no records, whatever follows.
        let batch = RecordSamples.rawV2Batch(count: 0, attributes: 4, payload: [1, 2, 3])
        let set = try KafkaRecords.decode(batch, strict: true)
        #expect(set.batches.first?.records == [])
        #expect(set.batches.first?.compression == .zstd)
        // Uncompressed, leftover bytes are still an error.
        let plain = RecordSamples.rawV2Batch(count: 0, payload: [1, 2, 3])
        #expect(Self.error { _ = try KafkaRecords.decode(plain) }?.kind.isInvalidRecords == true)
    }

    @Test func unknownCompressionCodecIsAnError() {
        let batch = RecordSamples.rawV2Batch(count: 0, attributes: 5, payload: [1, 2, 3])
        #expect(Self.error { _ = try KafkaRecords.decode(batch) }?.pathString == "[0].attributes")
    }

    @Test(arguments: [KafkaCompression.gzip, .snappy, .lz4, .zstd])
    func corruptedCompressedPayloadsAreTypedErrors(codec: KafkaCompression) throws {
        let batch = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(records: RecordSamples.many(200) + RecordSamples.varied(baseOffset: 200)),
            compression: codec)
        let payload = RecordSamples.payload(of: batch)

        // Cut short: the codec notices the missing end.
        let half = RecordSamples.replacingPayload(of: batch, with: Array(payload.prefix(payload.count / 2)))
        let e = Self.error { _ = try KafkaRecords.decode(half) }
        #expect(e?.kind.isCompression == true, "\(String(describing: e))")
        #expect(e?.pathString == "[0].records")
        #expect(e?.offset == 61)

        // Not compressed data at all.
        let garbage = RecordSamples.replacingPayload(of: batch, with: Array("this is not a compressed stream!".utf8))
        #expect(Self.error { _ = try KafkaRecords.decode(garbage) } != nil)

        // Empty payload with a nonzero count.
        let empty = RecordSamples.replacingPayload(of: batch, with: [])
        #expect(Self.error { _ = try KafkaRecords.decode(empty) } != nil)

        // Random damage anywhere: an error or a (CRC-invalid) batch, never a crash.
        var rng = SeededRandom(seed: UInt64(codec.rawValue))
        for _ in 0..<300 {
            var damaged = payload
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                damaged[Int(rng.next() % UInt64(damaged.count))] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            }
            _ = try? KafkaRecords.decode(RecordSamples.replacingPayload(of: batch, with: damaged))
            _ = KafkaRecords.kafkaValue(RecordSamples.replacingPayload(of: batch, with: damaged))
        }
    }

    @Test(arguments: [KafkaCompression.gzip, .snappy, .lz4, .zstd])
    func decompressionBeyondTheLimitIsAnError(codec: KafkaCompression) throws {
        let zeros = ByteBuffer(repeating: 0, count: 4 << 20)
        let batch = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(records: [KafkaRecord(value: zeros)]), compression: codec)
        #expect(batch.readableBytes < 1 << 20)
        let e = Self.error { _ = try KafkaRecords.decode(batch, maxDecompressedBytes: 1 << 20) }
        #expect(e?.kind.isCompression == true)
        #expect(e.map { "\($0)" }?.contains("exceeds the limit") == true)
        // The same batch decodes under a limit it fits in.
        #expect(try KafkaRecords.decode(batch, maxDecompressedBytes: 5 << 20).records.first?.value == zeros)
    }

    @Test(arguments: [KafkaCompression.gzip, .lz4, .zstd])
    func aBombBeyondTheDefaultLimitIsRejected(codec: KafkaCompression) throws {
        // 80 MiB of zeros compress to almost nothing; the default 64 MiB cap stops them.
        let bomb = try RecordCodec.compress(ByteBuffer(repeating: 0, count: 80 << 20), codec: codec)
        let batch = RecordSamples.rawV2Batch(count: 1, attributes: Int16(codec.rawValue), payload: Array(buffer: bomb))
        let e = Self.error { _ = try KafkaRecords.decode(batch) }
        #expect(e?.kind.isCompression == true)
    }

    @Test func xerialSnappyBlocksAreBoundedToo() throws {
        // A xerial block whose header claims a huge uncompressed size is rejected before allocating.
        var payload = RecordCodec.xerialMagic
        payload += [0, 0, 0, 1, 0, 0, 0, 1]
        payload += [0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        let batch = RecordSamples.rawV2Batch(count: 1, attributes: 2, payload: payload)
        let e = Self.error { _ = try KafkaRecords.decode(batch) }
        #expect(e?.kind.isCompression == true)
    }

    @Test func malformedLegacyWrappers() throws {
        let inner = try KafkaRecords.encodeLegacy(
            [KafkaRecord(value: RecordSamples.bytes("x"))], magic: 1, compression: .gzip, baseOffset: 0)
        // A compressed message nested inside a compressed wrapper.
        let nestedValue = try RecordCodec.compress(inner, codec: .gzip)
        var nested = KafkaWriter()
        try KafkaRecords.writeLegacyMessage(
            to: &nested, offset: 0, magic: 1, attributes: 1, timestamp: 0, key: nil, value: nestedValue)
        let e = Self.error { _ = try KafkaRecords.decode(nested.buffer) }
        #expect(e?.kind == .invalidRecords("compressed message inside a compressed wrapper"))
        #expect(e?.pathString == "[0].decompressedRecords[0].attributes")

        // A wrapper whose inner message set ends in a partial message.
        let plain = try KafkaRecords.encodeLegacy(
            [KafkaRecord(value: RecordSamples.bytes("abc"))], magic: 1, compression: .none, baseOffset: 0)
        let cutLength = plain.readableBytes - 2
        let cut = try #require(plain.getSlice(at: 0, length: cutLength))
        var partial = KafkaWriter()
        try KafkaRecords.writeLegacyMessage(
            to: &partial, offset: 0, magic: 1, attributes: 2, timestamp: 0, key: nil,
            value: try RecordCodec.compress(cut, codec: .snappy))
        #expect(Self.error { _ = try KafkaRecords.decode(partial.buffer) }?.kind.isInvalidRecords == true)

        // A compressed wrapper with a null value.
        var nullValue = KafkaWriter()
        try KafkaRecords.writeLegacyMessage(
            to: &nullValue, offset: 0, magic: 0, attributes: 3, timestamp: -1, key: nil, value: nil)
        #expect(Self.error { _ = try KafkaRecords.decode(nullValue.buffer) }?.pathString == "[0].value")
    }
}
