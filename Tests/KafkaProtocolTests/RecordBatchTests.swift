import NIOCore
import Testing

@testable import KafkaProtocol

@Suite("Record batches: golden data from real clients")
struct RecordBatchGoldenTests {
    static let codecs: [(String, KafkaCompression)] = [
        ("librdkafka-none", .none), ("librdkafka-gzip", .gzip), ("librdkafka-snappy", .snappy),
        ("librdkafka-lz4", .lz4), ("librdkafka-zstd", .zstd), ("kafka-python-compression-gzip", .gzip),
    ]

    @Test(arguments: codecs)
    func producedAndFetchedBatchesMatchWhatTheClientSent(session: String, codec: KafkaCompression) throws {
        let fixture = try RecordFixture(session)
        #expect(fixture.expected.count == 20)
        #expect(!fixture.produced.isEmpty)
        #expect(!fixture.fetched.isEmpty)
        for (side, fields) in [("produce", fixture.produced), ("fetch", fixture.fetched)] {
            var records: [KafkaRecord] = []
            for field in fields {
                let set = try KafkaRecords.decode(field, strict: true)
                #expect(set.truncatedTailBytes == 0, "\(side)")
                for batch in set.batches {
                    #expect(batch.magic == 2)
                    #expect(batch.compression == codec, "\(side)")
                    #expect(batch.crcValid, "\(side)")
                    #expect(!batch.recordCountMismatch)
                    #expect(!batch.isControl && !batch.isTransactional)
                    #expect(batch.timestampType == .createTime)
                    records += batch.records
                }
            }
            #expect(records.map(RecordExpectation.init) == fixture.expected, "\(side)")
            #expect(records.map(\.offset) == Array(0..<Int64(records.count)), "\(side)")
        }
    }

    @Test func uncompressedFixtureReencodesByteForByte() throws {
        let fixture = try RecordFixture("librdkafka-none")
        for field in fixture.produced + fixture.fetched {
            let set = try KafkaRecords.decode(field)
            var reencoded = ByteBuffer()
            for batch in set.batches {
                var copy = try KafkaRecords.encodeBatch(batch, compression: batch.compression)
                reencoded.writeBuffer(&copy)
            }
            #expect(reencoded == field)
        }
    }

    @Test(arguments: ["kafka-python-produce-consume", "kafka-python-group", "librdkafka-idempotent-group"])
    func otherSessionsDecodeToTheirRecords(session: String) throws {
        let fixture = try RecordFixture(session)
        for fields in [fixture.produced, fixture.fetched] {
            var records: [RecordExpectation] = []
            for field in fields {
                let set = try KafkaRecords.decode(field, strict: true)
                #expect(set.truncatedTailBytes == 0)
                records += set.records.map(RecordExpectation.init)
            }
            // Several partitions interleave differently on each side; compare as multisets.
            #expect(
                records.sorted { $0.description < $1.description }
                    == fixture.expected.sorted { $0.description < $1.description })
        }
    }

    @Test func idempotentProducerFieldsAreDecoded() throws {
        let fixture = try RecordFixture("librdkafka-idempotent-group")
        let batches = try fixture.produced.flatMap { try KafkaRecords.decode($0).batches }
        #expect(!batches.isEmpty)
        for batch in batches {
            #expect(batch.producerId >= 0)
            #expect(batch.producerEpoch >= 0)
            #expect(batch.baseSequence >= 0)
        }
    }

    @Test func renderingAFixtureBatch() throws {
        let fixture = try RecordFixture("librdkafka-gzip")
        let produced = try #require(fixture.produced.first)
        let value = KafkaRecords.kafkaValue(produced)
        let batch = try #require(value.arrayValue?.first)
        #expect(batch["compression"]?.stringValue == "gzip")
        #expect(batch["crcValid"] == .bool(true))
        #expect(batch["magic"]?.intValue == 2)
        let records = try #require(batch["records"]?.arrayValue)
        #expect(records.count == 20)
        #expect(records[0]["key"] == .bytes(ByteBuffer(string: "key-0")))
        let header = try #require(records[0]["headers"]?.arrayValue?.first)
        #expect(header["key"]?.stringValue == "h")
        #expect(header["value"] == .bytes(ByteBuffer(string: "header-0")))
    }
}

@Suite("Record batches: round trips")
struct RecordBatchRoundTripTests {
    @Test(arguments: KafkaCompression.allCases)
    func variedRecordsRoundTrip(codec: KafkaCompression) throws {
        let records = RecordSamples.varied()
        let batch = KafkaRecordBatch(
            baseOffset: 1000, partitionLeaderEpoch: 7, attributes: 0x10, producerId: 4242, producerEpoch: 3,
            baseSequence: 77, records: records)
        let encoded = try KafkaRecords.encodeBatch(batch, compression: codec)
        let set = try KafkaRecords.decode(encoded, strict: true)
        #expect(set.truncatedTailBytes == 0)
        let decoded = try #require(set.batches.first)
        #expect(set.batches.count == 1)
        #expect(decoded.records == records)
        #expect(decoded.compression == codec)
        #expect(decoded.crcValid)
        #expect(decoded.isTransactional)
        #expect(decoded.partitionLeaderEpoch == 7)
        #expect(decoded.producerId == 4242 && decoded.producerEpoch == 3 && decoded.baseSequence == 77)
        #expect(decoded.lastOffsetDelta == 9)
        #expect(decoded.recordCountMismatch)  // offset 8 is missing on purpose
        #expect(decoded.baseTimestamp == records[0].timestamp)
        #expect(decoded.maxTimestamp == records.map(\.timestamp).max())
        #expect(Int(decoded.batchLength) == encoded.readableBytes - 12)
        // The codecs are deterministic, so re-encoding the decoded batch gives the same bytes.
        #expect(try KafkaRecords.encodeBatch(decoded, compression: codec) == encoded)
        if codec != .none {
            let plain = try KafkaRecords.encodeBatch(batch, compression: .none)
            #expect(encoded.readableBytes < plain.readableBytes)
        }
    }

    @Test(arguments: KafkaCompression.allCases)
    func manyRecordsRoundTrip(codec: KafkaCompression) throws {
        let records = RecordSamples.many(5000, baseOffset: 1 << 33)
        let batch = KafkaRecordBatch(baseOffset: 1 << 33, records: records)
        let set = try KafkaRecords.decode(try KafkaRecords.encodeBatch(batch, compression: codec))
        #expect(set.batches.first?.records == records)
        #expect(set.batches.first?.recordCountMismatch == false)
    }

    @Test(arguments: KafkaCompression.allCases)
    func emptyBatchRoundTrips(codec: KafkaCompression) throws {
        let batch = KafkaRecordBatch(baseOffset: 5, records: [])
        let set = try KafkaRecords.decode(try KafkaRecords.encodeBatch(batch, compression: codec))
        #expect(set.batches.count == 1)
        #expect(set.batches.first?.records == [])
    }

    @Test func severalBatchesInOneSet() throws {
        var buffer = ByteBuffer()
        var expected: [KafkaRecord] = []
        for (i, codec) in KafkaCompression.allCases.enumerated() {
            let records = RecordSamples.many(10, baseOffset: Int64(i * 10))
            expected += records
            var b = try KafkaRecords.encodeBatch(
                KafkaRecordBatch(baseOffset: Int64(i * 10), records: records), compression: codec)
            buffer.writeBuffer(&b)
        }
        let set = try KafkaRecords.decode(buffer)
        #expect(set.batches.map(\.compression) == KafkaCompression.allCases)
        #expect(set.records == expected)
    }

    @Test func buffersThatDoNotStartAtIndexZero() throws {
        let batch = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 3, producerId: 1, records: RecordSamples.many(5, baseOffset: 3)),
            compression: .snappy)
        var shifted = ByteBuffer(string: "junk before the records")
        shifted.moveReaderIndex(forwardBy: shifted.readableBytes)
        shifted.writeImmutableBuffer(batch)
        #expect(try KafkaRecords.decode(shifted) == (try KafkaRecords.decode(batch)))
        let rewritten = try KafkaRecords.rewriteProducer(shifted, producerId: 8, producerEpoch: 2)
        let set = try KafkaRecords.decode(rewritten, strict: true)
        #expect(set.batches.first?.producerId == 8)
        #expect(set.records == RecordSamples.many(5, baseOffset: 3))
    }

    @Test func controlBatchDecodesItsMarker() throws {
        var key = ByteBuffer()
        key.writeInteger(Int16(0))
        key.writeInteger(Int16(1))  // COMMIT
        var value = ByteBuffer()
        value.writeInteger(Int16(0))
        value.writeInteger(Int32(12))  // coordinator epoch
        let batch = KafkaRecordBatch(
            baseOffset: 40, attributes: 0x30, producerId: 9, producerEpoch: 1,
            records: [KafkaRecord(offset: 40, timestamp: 1, key: key, value: value)])
        let encoded = try KafkaRecords.encodeBatch(batch, compression: .none)
        let decodedSet = try KafkaRecords.decode(encoded)
        let decoded = try #require(decodedSet.batches.first)
        #expect(decoded.isControl && decoded.isTransactional)
        let record = try #require(decoded.records.first)
        let marker = try #require(KafkaControlRecord(record))
        #expect(marker.typeName == "commit")
        #expect(marker.coordinatorEpoch == 12)
        let rendered = KafkaRecords.kafkaValue(encoded)
        let control = rendered.arrayValue?.first?["records"]?.arrayValue?.first?["control"]
        #expect(control?["type"]?.stringValue == "commit")
        #expect(control?["coordinatorEpoch"]?.intValue == 12)
        #expect(rendered.arrayValue?.first?["control"] == .bool(true))
    }

    @Test func logAppendTimeIsReported() throws {
        let batch = KafkaRecordBatch(attributes: 0x08, records: RecordSamples.many(3))
        let decoded = try KafkaRecords.decode(try KafkaRecords.encodeBatch(batch, compression: .none))
        #expect(decoded.batches.first?.timestampType == .logAppendTime)
    }

    @Test func offsetsTooFarFromTheBaseOffsetAreRejected() {
        let batch = KafkaRecordBatch(baseOffset: 0, records: [KafkaRecord(offset: 1 << 40)])
        #expect(throws: KafkaDecodingError.self) { try KafkaRecords.encodeBatch(batch, compression: .none) }
    }
}

@Suite("Record batches: legacy message sets")
struct RecordLegacyTests {
    static let cases: [(Int8, KafkaCompression)] = [0, 1].flatMap { magic in
        [KafkaCompression.none, .gzip, .snappy, .lz4].map { (Int8(magic), $0) }
    }

    static func records(magic: Int8) -> [KafkaRecord] {
        var records = RecordSamples.varied().map { r in
            var r = r
            r.headers = []
            if magic == 0 { r.timestamp = -1 }
            return r
        }
        for i in records.indices { records[i].offset = 500 + Int64(i) }
        return records
    }

    /// The value of a legacy wrapper with a null key: offset, size, crc, magic, attributes, [timestamp],
    /// key length -1, value length, value.
    static func wrapperValue(_ message: ByteBuffer, magic: Int8) -> ByteBuffer? {
        let lengthAt: Int = magic == 0 ? 22 : 30
        guard let length = message.getInteger(at: lengthAt, as: Int32.self) else { return nil }
        return message.getSlice(at: lengthAt + 4, length: Int(length))
    }

    @Test(arguments: cases)
    func legacyRoundTrip(magic: Int8, codec: KafkaCompression) throws {
        let records = Self.records(magic: magic)
        let encoded = try KafkaRecords.encodeLegacy(records, magic: magic, compression: codec, baseOffset: 500)
        let set = try KafkaRecords.decode(encoded, strict: true)
        #expect(set.truncatedTailBytes == 0)
        #expect(set.records == records)
        #expect(set.batches.count == (codec == .none ? records.count : 1))
        for batch in set.batches {
            #expect(batch.magic == magic)
            #expect(batch.compression == codec)
            #expect(batch.crcValid)
            #expect(batch.producerId == -1)
            #expect(batch.timestampType == (magic == 0 ? .noTimestamp : .createTime))
        }
        if codec != .none, let wrapper = set.batches.first {
            // The wrapper's own offset field is the last inner offset.
            #expect(wrapper.baseOffset == 500)
            #expect(wrapper.lastOffset == 500 + Int64(records.count) - 1)
            if magic == 1 { #expect(wrapper.maxTimestamp == records.map(\.timestamp).max()) }
        }
    }

    @Test func magic1WrapperOffsetsAreRelative() throws {
        let records = Self.records(magic: 1)
        let encoded = try KafkaRecords.encodeLegacy(records, magic: 1, compression: .gzip, baseOffset: 500)
        // Inner messages carry 0, 1, 2, ...: check the first inner offset inside the decompressed value.
        let value = try #require(Self.wrapperValue(encoded, magic: 1))
        let inner = try RecordCodec.decompress(value, codec: .gzip, limit: 1 << 20)
        #expect(inner.getInteger(at: inner.readerIndex, as: Int64.self) == 0)
    }

    @Test func legacyAndV2MixInOneSet() throws {
        var buffer = try KafkaRecords.encodeLegacy(
            Self.records(magic: 1), magic: 1, compression: .snappy, baseOffset: 500)
        var v2 = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 509, records: RecordSamples.many(4, baseOffset: 509)), compression: .lz4)
        buffer.writeBuffer(&v2)
        let set = try KafkaRecords.decode(buffer)
        #expect(set.batches.map(\.magic) == [1, 2])
        #expect(set.records.count == 13)
    }

    @Test func magic0LZ4UsesKafkasBrokenHeaderChecksum() throws {
        let records = Self.records(magic: 0)
        let encoded = try KafkaRecords.encodeLegacy(records, magic: 0, compression: .lz4, baseOffset: 500)
        let value = try #require(Self.wrapperValue(encoded, magic: 0))
        // A strict LZ4 frame reader rejects the header written for magic 0 ...
        #expect(throws: CodecFailure.self) { try RecordCodec.decompress(value, codec: .lz4, limit: 1 << 20) }
        // ... which is why decoding repairs it, as Kafka ignores it for magic 0.
        #expect(try KafkaRecords.decode(encoded).records == records)
        // Magic 1 writes a correct checksum.
        let v1 = try KafkaRecords.encodeLegacy(Self.records(magic: 1), magic: 1, compression: .lz4, baseOffset: 0)
        let v1Value = try #require(Self.wrapperValue(v1, magic: 1))
        _ = try RecordCodec.decompress(v1Value, codec: .lz4, limit: 1 << 20)
    }

    @Test func logAppendTimeWrapperOverridesInnerTimestamps() throws {
        var encoded = try KafkaRecords.encodeLegacy(Self.records(magic: 1), magic: 1, compression: .gzip, baseOffset: 0)
        // Set the wrapper's timestamp-type bit and its timestamp, then fix its CRC-32.
        encoded.setInteger(Int8(0x08 | 1), at: 17)
        encoded.setInteger(Int64(123_456), at: 18)
        let crc = encoded.withUnsafeReadableBytes { KafkaRecords.crc32(UnsafeRawBufferPointer(rebasing: $0[16...])) }
        encoded.setInteger(crc, at: 12)
        let set = try KafkaRecords.decode(encoded, strict: true)
        #expect(set.batches.first?.timestampType == .logAppendTime)
        #expect(set.records.allSatisfy { $0.timestamp == 123_456 })
    }

    @Test func legacyEncodingRejectsWhatItCannotCarry() {
        let withHeaders = [KafkaRecord(headers: [KafkaRecordHeader(key: "h", value: nil)])]
        #expect(throws: KafkaDecodingError.self) {
            try KafkaRecords.encodeLegacy(withHeaders, magic: 1, compression: .none, baseOffset: 0)
        }
        #expect(throws: KafkaDecodingError.self) {
            try KafkaRecords.encodeLegacy([KafkaRecord()], magic: 1, compression: .zstd, baseOffset: 0)
        }
        #expect(throws: KafkaDecodingError.self) {
            try KafkaRecords.encodeLegacy([KafkaRecord()], magic: 2, compression: .none, baseOffset: 0)
        }
    }
}

@Suite("Record batches: producer rewrite")
struct RecordRewriteTests {
    @Test(arguments: KafkaCompression.allCases)
    func rewriteKeepsRecordsAndFixesTheCRC(codec: KafkaCompression) throws {
        let records = RecordSamples.varied()
        let original = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 1000, producerId: 1, producerEpoch: 2, baseSequence: 3, records: records),
            compression: codec)
        let rewritten = try KafkaRecords.rewriteProducer(original, producerId: 987_654_321, producerEpoch: 17)
        #expect(rewritten.readableBytes == original.readableBytes)
        #expect(RecordSamples.payload(of: rewritten) == RecordSamples.payload(of: original))
        let rewrittenSet = try KafkaRecords.decode(rewritten, strict: true)
        let batch = try #require(rewrittenSet.batches.first)
        #expect(batch.producerId == 987_654_321)
        #expect(batch.producerEpoch == 17)
        #expect(batch.baseSequence == 3)
        #expect(batch.crcValid)
        #expect(batch.records == records)
        // The original buffer is untouched.
        #expect(try KafkaRecords.decode(original).batches.first?.producerId == 1)

        let resequenced = try KafkaRecords.rewriteProducer(original, producerId: 5, producerEpoch: 0, baseSequence: 40)
        #expect(try KafkaRecords.decode(resequenced, strict: true).batches.first?.baseSequence == 40)
    }

    @Test func rewriteSkipsLegacyMessagesAndTheTruncatedTail() throws {
        var buffer = try KafkaRecords.encodeBatch(KafkaRecordBatch(records: RecordSamples.many(3)), compression: .zstd)
        var legacy = try KafkaRecords.encodeLegacy(
            RecordSamples.many(2).map { r in
                var r = r
                r.headers = []
                return r
            },
            magic: 1, compression: .none, baseOffset: 3)
        buffer.writeBuffer(&legacy)
        var second = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 5, records: RecordSamples.many(3, baseOffset: 5)), compression: .gzip)
        buffer.writeBuffer(&second)
        // A batch cut short, as a broker leaves at the end of a fetch response.
        let cut = try KafkaRecords.encodeBatch(
            KafkaRecordBatch(baseOffset: 8, records: RecordSamples.many(3)), compression: .none)
        let tail = try #require(cut.getSlice(at: cut.readerIndex, length: 30))
        buffer.writeImmutableBuffer(tail)

        let rewritten = try KafkaRecords.rewriteProducer(buffer, producerId: 77, producerEpoch: 1)
        let set = try KafkaRecords.decode(rewritten, strict: true)
        #expect(set.truncatedTailBytes == 30)
        #expect(set.batches.filter { $0.magic == 2 }.allSatisfy { $0.producerId == 77 && $0.producerEpoch == 1 })
        #expect(set.records == (try KafkaRecords.decode(buffer).records))
        #expect(rewritten.getSlice(at: rewritten.readableBytes - 30, length: 30) == tail)
    }
}
