import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I30 (timestamps come back as produced) and I9's answered timestamp.
@Suite struct TimestampTests {
    let recs = [Rec("a", "1", timestamp: 1_000), Rec("b", "2", timestamp: 2_000)]
    /// Plausible broker clock for the builder's capture times (ms since the epoch).
    let brokerNow: Int64 = 1_700_000_000_010

    func logAppendBatch(_ recs: [Rec], base: Int64, time: Int64) -> ByteBuffer {
        var b = Msg.batchValue(recs, base: base)
        b.attributes |= 0x08
        b.maxTimestamp = time
        return Msg.encode(b)
    }

    @Test func i30FetchedTimestampDiffersFromProduced() throws {
        let b = CaptureBuilder()
        b.produce(recs, base: 0)
        b.fetch(at: 0, hw: 2, batch: [Rec("a", "1", timestamp: 1_000), Rec("b", "2", timestamp: 9_999)], base: 0)
        let report = b.check()
        #expect(report.ids == [30])
        let f = try #require(report.first(30))
        #expect(f.message == "A record of t-0 fetched at offset 1 has the produced content but not its timestamp: produced CreateTime 2000, fetched CreateTime 9999.")
        #expect(f.exchanges.map(\.apiName) == ["Fetch", "Produce"])
    }

    @Test func i30TypeChangedAlsoWhenTheFetchCameFirst() throws {
        // CreateTime records come back as LogAppendTime; the Fetch is captured before the Produce.
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 2, records: logAppendBatch(recs, base: 0, time: 2_000))
        b.produce(recs, base: 0)
        let report = b.check()
        #expect(report.ids.contains(30))
        let messages = report.findings(InvariantID(30)).map(\.message)
        #expect(messages.contains("A record of t-0 fetched at offset 0 has the produced content but not its timestamp: produced CreateTime 1000, fetched LogAppendTime 2000 (and 1 more offsets)."))
        #expect(messages.contains("A ProduceResponse for t-0 reported LogAppendTimeMs -1 (CreateTime), but the partition's batches come back with LogAppendTime."))
    }

    @Test func i30LogAppendTimeInACreateTimeTopic() throws {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 0, batch: [Rec("x", "0")], base: 0)
        b.produce([Rec("x", "0")], base: 0, logAppendTime: brokerNow)
        let report = b.check()
        #expect(report.ids.contains(30))
        #expect(report.findings(InvariantID(30)).contains { $0.message.hasPrefix("A ProduceResponse for t-0 reported LogAppendTimeMs \(brokerNow), but the partition's batches come back with CreateTime") })
    }

    @Test func i30BrokerTimeOutsideTheCapture() throws {
        // Seconds instead of milliseconds.
        let b = CaptureBuilder()
        b.produce(recs, base: 0, logAppendTime: brokerNow / 1000)
        let report = b.check()
        #expect(report.ids == [30])
        #expect(try #require(report.first(30)).message.contains("outside the time of the exchange"))
    }

    @Test func i30CleanForCreateTimeAndLogAppendTime() {
        let b = CaptureBuilder()
        b.produce(recs, base: 0)
        b.fetch(at: 0, hw: 2, batch: recs, base: 0)
        b.produce(recs, base: 0, partition: 0, logAppendTime: -1)
        let c = CaptureBuilder(topic: "lat")
        c.produce(recs, base: 0, logAppendTime: brokerNow)
        c.fetch(at: 0, hw: 2, records: logAppendBatch(recs, base: 0, time: brokerNow))
        let report = c.check()
        #expect(report.isClean, "\(report.text(capturePath: "x"))")
        #expect(!b.check().ids.contains(30))
    }

    // MARK: I9's answered timestamp

    @Test func i9ListOffsetsEchoesTheQuery() throws {
        let b = CaptureBuilder()
        b.produce(recs, base: 0)
        b.listOffsets(1_500, answer: 1, answerTimestamp: 1_500)
        let report = b.check()
        #expect(report.ids == [9])
        let f = try #require(report.first(9))
        #expect(f.message == "ListOffsets for t-0 at timestamp 1500 answered offset 1 with timestamp 1500, but that record's timestamp is 2000 (it echoed the query).")
    }

    @Test func i9AnswerWithTheRecordsTimestampIsClean() {
        let b = CaptureBuilder()
        b.produce(recs, base: 0)
        b.listOffsets(1_500, answer: 1, answerTimestamp: 2_000)
        #expect(b.check().isClean)
    }
}
