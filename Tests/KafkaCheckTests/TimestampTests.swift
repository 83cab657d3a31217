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

    @Test func aClaimedLogAppendTimeWithCreateTimeRecordsIsOneFindingNotOnePerRecord() throws {
        // The gateway's shape: CreateTime records, a ProduceResponse that reports a LogAppendTimeMs,
        // and fetches that return the records with CreateTime, as produced. The contradiction is the
        // ProduceResponse's; the records are not accused of losing a timestamp they kept.
        let b = CaptureBuilder()
        b.produce(recs, base: 0, logAppendTime: brokerNow)
        b.fetch(at: 0, hw: 2, batch: recs, base: 0)
        b.fetch(at: 1, hw: 2, batch: [recs[1]], base: 1)
        let messages = b.check().findings(InvariantID(30)).map(\.message)
        #expect(messages == ["A ProduceResponse for t-0 reported LogAppendTimeMs \(brokerNow), but the partition's batches come back with CreateTime (with CreateTime, LogAppendTimeMs is -1)."])
    }

    @Test func i30SaysWhenTheExpectedTimeIsTheOneTheBrokerReported() throws {
        // A LogAppendTime topic whose fetched batch carries another time than the ProduceResponse
        // reported: the expected time is the reported one, not anything the producer sent.
        let b = CaptureBuilder()
        b.produce(recs, base: 0, logAppendTime: brokerNow)
        b.fetch(at: 0, hw: 2, records: logAppendBatch(recs, base: 0, time: brokerNow + 5))
        let messages = b.check().findings(InvariantID(30)).map(\.message)
        #expect(messages == ["A record of t-0 fetched at offset 0 has the produced content but not its timestamp: expected LogAppendTime \(brokerNow) (the ProduceResponse reported LogAppendTimeMs \(brokerNow)), fetched LogAppendTime \(brokerNow + 5) (and 1 more offsets)."])
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

/// I31: log start offsets agree.
@Suite struct LogStartTests {
    func produce(_ b: CaptureBuilder, logStart: Int64, base: Int64) {
        var resp = Msg.produceResponse("t", 0, base: base)
        resp.responses[0].partitionResponses[0].logStartOffset = logStart
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, Msg.batch([Rec("k", "v")], base: 0), acks: -1), resp)
    }

    @Test func i31ProduceResponseAboveTheNextFetch() throws {
        let b = CaptureBuilder()
        produce(b, logStart: 5, base: 10)
        b.fetch(at: 10, hw: 11, batch: [Rec("k", "v")], base: 10)  // reports log start 0
        let report = b.check()
        #expect(report.ids.contains(31))
        let f = try #require(report.first(31))
        #expect(f.message == "A Fetch reported log start offset 0 for t-0, below 5, which a ProduceResponse had reported before the request was sent.")
        #expect(f.exchanges.map(\.apiName) == ["Fetch", "Produce"])
    }

    @Test func i31ListOffsetsEarliestGoesBackwards() throws {
        let b = CaptureBuilder()
        b.listOffsets(-2, answer: 3)
        produce(b, logStart: 0, base: 3)
        let report = b.check()
        #expect(report.ids == [31])
        #expect(try #require(report.first(31)).message.hasPrefix("A ProduceResponse reported log start offset 0 for t-0, below 3, which ListOffsets EARLIEST had reported"))
    }

    @Test func i31CleanWhenItAgreesOrMovesUp() {
        let b = CaptureBuilder()
        produce(b, logStart: 0, base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("k", "v")], base: 0)
        b.listOffsets(-2, answer: 0)
        // Retention or DeleteRecords moves it up.
        produce(b, logStart: 1, base: 1)
        b.fetch(at: 1, hw: 2, records: nil, logStart: 1)
        // Overlapping exchanges are not ordered: an answer captured after the request was sent.
        let report = b.check()
        #expect(!report.ids.contains(31), "\(report.text(capturePath: "x"))")
    }
}
