import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I1, I4, I10, I11: what records contain.
@Suite struct RecordContentTests {
    let produced = [Rec("k0", "v0"), Rec("k1", nil), Rec(nil, ""), Rec("k3", "v3", headers: [("h", "x"), ("n", nil)])]

    @Test func cleanRoundTripHasNoFindings() {
        let b = CaptureBuilder()
        b.produce(produced, base: 0)
        b.fetch(at: 0, hw: 4, batch: produced, base: 0)
        let report = b.check()
        #expect(report.isClean, "\(report.text(capturePath: "x"))")
        #expect(report.statistics.exchanges == 5)
    }

    @Test func i1FetchedValueDiffersFromProduced() throws {
        let b = CaptureBuilder()
        b.produce(produced, base: 10)
        var fetched = produced
        fetched[0].value = "v9"
        b.fetch(at: 10, hw: 14, batch: fetched, base: 10)
        let report = b.check()
        #expect(report.ids == [1])
        let f = try #require(report.first(1))
        #expect(f.message.contains("offset 10"))
        #expect(f.message.contains("\"v0\""))
        #expect(f.message.contains("\"v9\""))
        #expect(f.details["topic"] == "t" && f.details["partition"] == "0" && f.details["offset"] == "10")
        #expect(f.exchanges.map(\.apiName) == ["Fetch", "Produce"])
    }

    @Test func i1HeadersAndKeysCount() {
        let b = CaptureBuilder()
        b.produce(produced, base: 0)
        var fetched = produced
        fetched[3].headers = [("h", "y"), ("n", nil)]
        fetched[0].key = "kX"
        b.fetch(at: 0, hw: 4, batch: fetched, base: 0)
        let report = b.check()
        #expect(report.ids == [1])
        #expect(report.first(1)?.details["offsets"] == "0, 3 (2 offsets)")
    }

    @Test func i1FetchSeenBeforeProduceResponse() {
        // A long-poll Fetch sent before the Produce: the comparison happens when the Produce arrives.
        let b = CaptureBuilder()
        var fetched = produced
        fetched[1].value = "not null"
        b.fetch(at: 0, hw: 4, batch: fetched, base: 0)
        b.produce(produced, base: 0)
        let report = b.check()
        #expect(report.ids == [1, 10])
        #expect(report.first(1)?.exchanges.first?.apiName == "Fetch")
    }

    @Test func i4SameOffsetDifferentContent() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 2, batch: [Rec("a", "one"), Rec("b", "two")], base: 0)
        b.fetch(at: 0, hw: 2, batch: [Rec("a", "one"), Rec("b", "TWO")], base: 0, conn: 1)
        let report = b.check()
        #expect(report.ids == [4])
        #expect(report.first(4)?.details["offset"] == "1")
        #expect(report.first(4)?.exchanges.count == 2)
    }

    @Test func i4CleanWhenRepeatedFetchesAgree() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 2, batch: [Rec("a", "one"), Rec("b", "two")], base: 0)
        b.fetch(at: 0, hw: 2, batch: [Rec("a", "one"), Rec("b", "two")], base: 0, conn: 1)
        #expect(b.check().isClean)
    }

    @Test func i4AndI1WhenALaterFetchDiffersFromAnAgreeingOne() {
        let b = CaptureBuilder()
        b.produce([Rec("a", "one")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("a", "one")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("a", "uno")], base: 0)
        #expect(b.check().ids == [1, 4])
    }

    @Test func i10EmptyValuesFault() throws {
        // The empty-values fault: values replaced by empty ones, CRC recomputed.
        let b = CaptureBuilder()
        b.produce(produced, base: 0)
        b.fetch(at: 0, hw: 4, batch: produced.map { Rec($0.key, $0.value == nil ? nil : "", headers: $0.headers) }, base: 0)
        let report = b.check()
        #expect(report.ids == [1, 10])
        let f = try #require(report.first(10))
        #expect(f.message.contains("value produced with bytes came back empty"))
        #expect(f.details["offsets"] == "0, 3 (2 offsets)")
    }

    @Test func i10NullBecomesEmpty() throws {
        let b = CaptureBuilder()
        b.produce([Rec(nil, nil)], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("", "")], base: 0)
        let f = try #require(b.check().first(10))
        #expect(f.message.contains("value produced null came back empty"))
        #expect(f.message.contains("key produced null came back empty"))
    }

    @Test func i11BadCrcInProduce() throws {
        let b = CaptureBuilder()
        var batch = Msg.batch([Rec("k", "value")], base: 0)
        // The value's last byte (the batch ends with it and a header count of 0).
        let last = batch.writerIndex - 2
        batch.setInteger(UInt8(ascii: "E"), at: last)
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, batch, acks: -1), Msg.produceResponse("t", 0, base: 0, error: 2))
        let report = b.check()
        #expect(report.ids == [11])
        #expect(report.first(11)?.message.contains("bad CRC") == true)
        #expect(report.first(11)?.details["in"] == "Produce request")
    }

    @Test func i11RecordCountMismatchInFetch() {
        let b = CaptureBuilder()
        let batch = Msg.encode(
            KafkaRecordBatch(baseOffset: 0, lastOffsetDelta: 5, records: [Msg.record(Rec("a", "1"), offset: 0), Msg.record(Rec("b", "2"), offset: 1)]))
        b.fetch(at: 0, hw: 6, records: batch)
        let report = b.check()
        #expect(report.ids == [11])
        #expect(report.first(11)?.message.contains("lastOffsetDelta 5 but 2 records") == true)
    }

    @Test func i11UndecodableRecords() {
        let b = CaptureBuilder()
        var junk = ByteBuffer()
        junk.writeInteger(Int64(0))
        junk.writeInteger(Int32(3))  // shorter than any batch
        junk.writeBytes([1, 2, 3])
        b.fetch(at: 0, hw: 1, records: junk)
        let report = b.check()
        #expect(report.ids == [11])
        #expect(report.first(11)?.message.contains("do not decode") == true)
    }

    @Test func i11CompressedBatchesAreFine() {
        let b = CaptureBuilder()
        b.produce(produced, base: 0)
        for codec in [KafkaCompression.gzip, .snappy, .lz4, .zstd] {
            b.fetch(at: 0, hw: 4, records: Msg.batch(produced, base: 0, compression: codec))
        }
        #expect(b.check().isClean)
    }
}
