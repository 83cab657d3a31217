import KafkaProtocol
import Testing

@testable import KafkaReplay

/// A replay whose Produce lands at other offsets than the recorded one says so, once per partition.
@Suite struct OffsetShiftCheckTests {
    static func answer(_ partitions: [(topic: String, index: Int32, base: Int64, error: Int16)], topicId: KafkaUUID? = nil, version: Int16 = 9)
        -> KafkaValue
    {
        var r = ProduceResponse()
        for (topic, group) in Dictionary(grouping: partitions, by: \.topic).sorted(by: { $0.key < $1.key }) {
            var t = ProduceResponse.TopicProduceResponse()
            if let topicId { t.topicId = topicId } else { t.name = topic }
            for p in group {
                var pr = ProduceResponse.PartitionProduceResponse()
                pr.index = p.index
                pr.baseOffset = p.error == 0 ? p.base : -1
                pr.errorCode = p.error
                t.partitionResponses.append(pr)
            }
            r.responses.append(t)
        }
        return r.kafkaValue(version: version)
    }

    @Test func theFirstProduceOfAShiftedPartitionIsReportedOnce() {
        var check = OffsetShiftCheck()
        let first = check.produceAnswered(
            recorded: Self.answer([("t", 0, 0, 0), ("t", 1, 0, 0)]), replayed: Self.answer([("t", 0, 5, 0), ("t", 1, 0, 0)]), names: [:])
        #expect(first == [OffsetShiftCheck.Shift(topic: "t", partition: 0, recorded: 0, replayed: 5)])
        #expect(first.first?.message.hasPrefix("t-0: the replay's first Produce got base offset 5, the recording's 0: ") == true)
        // The next Produce of the same partitions is shifted alike (or lines up): nothing new to say.
        let next = check.produceAnswered(
            recorded: Self.answer([("t", 0, 3, 0), ("t", 1, 3, 0)]), replayed: Self.answer([("t", 0, 8, 0), ("t", 1, 9, 0)]), names: [:])
        #expect(next.isEmpty)
    }

    @Test func aRecordingMadeOnAPartitionThatWasNotEmptyIsReportedToo() {
        var check = OffsetShiftCheck()
        let shifts = check.produceAnswered(recorded: Self.answer([("t", 2, 100, 0)]), replayed: Self.answer([("t", 2, 0, 0)]), names: [:])
        #expect(shifts == [OffsetShiftCheck.Shift(topic: "t", partition: 2, recorded: 100, replayed: 0)])
    }

    @Test func errorsAndLinedUpPartitionsSayNothing() {
        var check = OffsetShiftCheck()
        // The replay's answer is an error: its base offset (-1) says nothing about the log.
        #expect(check.produceAnswered(recorded: Self.answer([("t", 0, 0, 0)]), replayed: Self.answer([("t", 0, 0, 6)]), names: [:]).isEmpty)
        // The partition was answered once: a later shift of it is the error's consequence, not news.
        #expect(check.produceAnswered(recorded: Self.answer([("t", 0, 1, 0)]), replayed: Self.answer([("t", 0, 7, 0)]), names: [:]).isEmpty)
        #expect(check.produceAnswered(recorded: Self.answer([("u", 0, 4, 0)]), replayed: Self.answer([("u", 0, 4, 0)]), names: [:]).isEmpty)
    }

    @Test func topicsNamedByIdAreNamedThroughTheSessionsMetadata() {
        let id = KafkaUUID(high: 7, low: 9)
        var check = OffsetShiftCheck()
        let shifts = check.produceAnswered(
            recorded: Self.answer([("", 0, 0, 0)], topicId: id, version: 13), replayed: Self.answer([("", 0, 2, 0)], topicId: id, version: 13),
            names: [id: "orders"])
        #expect(shifts.map(\.topic) == ["orders"])
    }
}
