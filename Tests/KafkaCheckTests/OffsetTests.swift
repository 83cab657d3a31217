import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I2, I3, I5, I6, I7, I8, I9, I12: offsets, high watermarks and ListOffsets.
@Suite struct OffsetTests {
    let three = [Rec("a", "1", timestamp: 1_000), Rec("b", "2", timestamp: 2_000), Rec("c", "3", timestamp: 3_000)]

    func produced() -> CaptureBuilder {
        let b = CaptureBuilder()
        b.produce(three, base: 0)
        return b
    }

    // MARK: I2

    @Test func i2EmptyAnswerBelowHighWatermark() throws {
        let b = produced()
        b.fetch(at: 0, hw: 3)
        let report = b.check()
        #expect(report.ids == [2])
        #expect(try #require(report.first(2)).message.contains("at offset 0 answered without error but returned no records"))
    }

    @Test func i2UsesHighWatermarkKnownFromEarlierResponses() {
        // The faulted answer also lowers its own high watermark; the earlier one still counts.
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        b.fetch(at: 1, hw: 1)
        #expect(b.check().ids.contains(2))
    }

    @Test func i2CleanAtTheHighWatermark() {
        let b = produced()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        b.fetch(at: 3, hw: 3, latencyMs: 500)
        #expect(b.check().isClean)
    }

    // MARK: I3

    @Test func i3SwallowedFirstRecord() throws {
        let b = produced()
        b.fetch(at: 0, hw: 3, batch: Array(three.dropFirst()), base: 1)
        let report = b.check()
        #expect(report.ids == [3])
        let f = try #require(report.first(3))
        #expect(f.message.contains("starting at 1, skipping offsets 0-0"))
        #expect(f.message.contains("offset 0 was produced"))
        #expect(f.exchanges.map(\.apiName) == ["Fetch", "Produce"])
    }

    @Test func i3StaleBatchFromAnEarlierOffset() {
        // The stale-fetch fault: the answer for offset 0 replayed for a fetch at 2.
        let b = produced()
        b.fetch(at: 0, hw: 3, batch: Array(three.prefix(2)), base: 0)
        b.fetch(at: 2, hw: 3, batch: Array(three.prefix(2)), base: 0)
        let report = b.check()
        #expect(report.ids.contains(3))
        #expect(report.ids.contains(2))
        #expect(report.first(3)?.message.contains("ends before the fetch offset") == true)
    }

    @Test func i3MissingRecordInsideCoveringBatch() {
        let b = produced()
        let batch = Msg.encode(
            KafkaRecordBatch(baseOffset: 0, lastOffsetDelta: 2, records: [Msg.record(three[1], offset: 1), Msg.record(three[2], offset: 2)]))
        b.fetch(at: 0, hw: 3, records: batch)
        let report = b.check()
        #expect(report.ids.contains(3))
        #expect(report.first(3)?.message.contains("without the record at 0") == true)
    }

    @Test func i3GapExplainedByAnEarlierResponse() {
        // Offsets 2-4 were missing between two batches of one answer (compaction); a later fetch at 2
        // may start at 5.
        let b = CaptureBuilder()
        var both = Msg.batch([Rec("a", "0"), Rec("b", "1")], base: 0)
        var second = Msg.batch([Rec("f", "5")], base: 5)
        both.writeBuffer(&second)
        b.fetch(at: 0, hw: 6, records: both)
        b.fetch(at: 2, hw: 6, records: Msg.batch([Rec("f", "5")], base: 5))
        #expect(b.check().isClean)
    }

    // MARK: I5

    @Test func i5HighWatermarkGoesBackOnAConnection() throws {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        b.fetch(at: 0, hw: 2, batch: Array(three.prefix(2)), base: 0)
        let report = b.check()
        #expect(report.ids == [5])
        let f = try #require(report.first(5))
        #expect(f.details["previous"] == "3" && f.details["now"] == "2")
    }

    @Test func i5OtherConnectionsHaveTheirOwnView() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0, conn: 2)
        b.fetch(at: 0, hw: 2, batch: Array(three.prefix(2)), base: 0, conn: 1)
        b.fetch(at: 0, hw: 3, batch: three, base: 0, conn: 2)
        #expect(b.check().isClean)
    }

    // MARK: I6

    @Test func i6ListOffsetsBelowAcknowledgedEnd() throws {
        let b = produced()
        b.listOffsets(-1, answer: 1)
        let report = b.check()
        #expect(report.ids == [6])
        let f = try #require(report.first(6))
        #expect(f.details["answered"] == "1" && f.details["acknowledgedEnd"] == "3")
    }

    @Test func i6FetchHighWatermarkBelowAcknowledgedEnd() {
        let b = produced()
        b.fetch(at: 0, hw: 2, batch: Array(three.prefix(2)), base: 0)
        #expect(b.check().ids == [6])
    }

    @Test func i6AcksOneCountsOnlyWithOneReplica() {
        let single = CaptureBuilder(replicas: 1)
        single.produce(three, base: 0, acks: 1)
        single.listOffsets(-1, answer: 1)
        #expect(single.check().ids == [6])

        let replicated = CaptureBuilder(replicas: 3)
        replicated.produce(three, base: 0, acks: 1)
        replicated.listOffsets(-1, answer: 1)
        #expect(replicated.check().isClean)
    }

    @Test func i6Clean() {
        let b = produced()
        b.listOffsets(-1, answer: 3)
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        #expect(b.check().isClean)
    }

    // MARK: I7

    @Test func i7LatestDisagreesWithFetch() throws {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        b.listOffsets(-1, answer: 2)
        let report = b.check()
        #expect(report.ids == [7])
        let f = try #require(report.first(7))
        #expect(f.details["listOffsets"] == "2" && f.details["highWatermark"] == "3")
        #expect(f.exchanges.map(\.apiName) == ["ListOffsets", "Fetch"])
    }

    @Test func i7AlsoWhenListOffsetsComesFirst() {
        let b = CaptureBuilder()
        b.listOffsets(-1, answer: 2)
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        #expect(b.check().ids == [7])
    }

    @Test func i7EarliestDisagreesWithLogStart() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        b.listOffsets(-2, answer: 1)
        let report = b.check()
        #expect(report.ids == [7])
        #expect(report.first(7)?.details["timestamp"] == "EARLIEST")
    }

    @Test func i7NotWhenSomethingWasProducedInBetween() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        b.produce([Rec("d", "4")], base: 3, acks: 0)
        b.listOffsets(-1, answer: 4)
        #expect(!b.check().ids.contains(7))
    }

    @Test func i7NotWhenAProduceOverlapsTheListOffsetsAnswer() {
        // A Produce sent after the ListOffsets request but before its answer may be counted or not.
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, batch: three, base: 0)
        let lo = b.request(2, 2, 7, Msg.listOffsetsRequest("t", 0, -1))
        b.produce([Rec("d", "4")], base: 3)
        b.response(2, lo, 2, 7, Msg.listOffsetsResponse("t", 0, offset: 4))
        #expect(!b.check().ids.contains(7))
    }

    @Test func i7ReadCommittedComparesTheLastStableOffset() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, records: Msg.batch(three, base: 0), lso: 2)
        b.listOffsets(-1, answer: 2, isolation: 1)
        b.listOffsets(-1, answer: 3)
        #expect(b.check().isClean)
    }

    // MARK: I8

    @Test func i8FetchBeyondHighWatermarkWithoutError() throws {
        let b = CaptureBuilder()
        b.fetch(at: 5, hw: 3)
        let report = b.check()
        #expect(report.ids == [8])
        #expect(try #require(report.first(8)).message.contains("beyond the high watermark 3"))
    }

    @Test func i8BelowLogStart() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 3, records: Msg.batch([Rec("c", "3")], base: 2), logStart: 2)
        #expect(b.check().ids == [8])
    }

    @Test func i8CleanWithOffsetOutOfRange() {
        let b = CaptureBuilder()
        b.fetch(at: 5, hw: 3, error: 1)
        #expect(b.check().isClean)
    }

    @Test func i8ReplicatedPartitionsMayLagTheLogEnd() {
        let b = CaptureBuilder(replicas: 3)
        b.fetch(at: 4, hw: 3)
        #expect(b.check().isClean)
    }

    // MARK: I9

    @Test func i9SkipsAnEarlierMatchingOffset() throws {
        let b = produced()
        b.listOffsets(1_500, answer: 2, answerTimestamp: 3_000)
        let report = b.check()
        #expect(report.ids == [9])
        let f = try #require(report.first(9))
        #expect(f.details["expected"] == "1")
    }

    @Test func i9AnswersMinusOneTooEarly() {
        let b = produced()
        b.listOffsets(2_500, answer: -1)
        #expect(b.check().ids == [9])
    }

    @Test func i9AnswerWithEarlierTimestamp() {
        let b = produced()
        b.listOffsets(3_500, answer: 2, answerTimestamp: 3_000)
        let report = b.check()
        #expect(report.ids == [9])
        #expect(report.first(9)?.message.contains("earlier timestamp 3000") == true)
    }

    @Test func i9Clean() {
        let b = produced()
        b.listOffsets(1_500, answer: 1, answerTimestamp: 2_000)
        b.listOffsets(2_000, answer: 1, answerTimestamp: 2_000)
        b.listOffsets(0, answer: 0, answerTimestamp: 1_000)
        b.listOffsets(9_000, answer: -1)
        #expect(b.check().isClean)
    }

    @Test func i9UsesLogAppendTime() {
        let b = CaptureBuilder()
        // Log-append times are the broker's clock: within the capture's time (I30).
        b.produce(three, base: 0, logAppendTime: 1_700_000_000_050)
        b.listOffsets(1_700_000_000_040, answer: 0, answerTimestamp: 1_700_000_000_050)
        #expect(b.check().isClean)
    }

    // MARK: I12

    @Test func i12Gap() throws {
        let b = produced()
        b.produce([Rec("d", "4")], base: 5)
        let report = b.check()
        #expect(report.ids == [12])
        #expect(try #require(report.first(12)).message.contains("offsets 3-4 are unaccounted for"))
    }

    @Test func i12Overlap() throws {
        let b = produced()
        b.produce([Rec("d", "4"), Rec("e", "5")], base: 2, conn: 2)
        let report = b.check()
        #expect(report.ids == [12])
        #expect(try #require(report.first(12)).message.contains("overlapping offsets 0-2"))
    }

    @Test func i12CleanSequencesInAnyCaptureOrder() {
        let b = CaptureBuilder()
        b.produce([Rec("d", "4")], base: 3, conn: 2)
        b.produce(three, base: 0)
        b.produce([Rec("e", "5"), Rec("f", "6")], base: 4)
        #expect(b.check().isClean)
    }

    @Test func i12ExplainedGaps() {
        // An idempotent retry answered with the same range, a transaction marker, and records
        // produced with acks=0.
        let b = CaptureBuilder()
        b.produce(three, base: 0, producerId: 7, baseSequence: 0)
        b.produce(three, base: 0, producerId: 7, baseSequence: 0)
        b.produce([Rec("t", "x")], base: 3, transactional: true)
        b.produce([Rec("u", "y")], base: 5)
        b.produce([Rec("v", "z"), Rec("w", "z")], base: 0, acks: 0)
        b.produce([Rec("x", "z")], base: 8)
        #expect(!b.check().ids.contains(12))
    }
}
