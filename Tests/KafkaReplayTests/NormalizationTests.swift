import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaReplay

@Suite struct NormalizationTests {
    let normalizer = MessageNormalizer(rules: .standard(), topicNames: [Messages.topicId: "orders"])

    func fetchTree(_ r: FetchResponse, version: Int16 = 12) -> KafkaValue { r.kafkaValue(version: version) }

    @Test func recordsBecomeDecodedRecordsAndNoiseIsRemoved() throws {
        var response = Messages.fetchResponse(records: Messages.batch(["a", "b"], producerId: 3, producerEpoch: 1), highWatermark: 2, sessionId: 77)
        response.throttleTimeMs = 12
        let v = normalizer.normalize(fetchTree(response), api: "Fetch", direction: .response)
        #expect(v["ThrottleTimeMs"] == nil)
        #expect(v["SessionId"] == nil)
        let partition = try #require(v["Responses"]?.arrayValue?.first?["Partitions"]?.arrayValue?.first)
        let records = try #require(partition["Records"]?.arrayValue)
        #expect(records.count == 2)
        #expect(records[1]["offset"] == .int(1))
        #expect(records[1]["value"] == .bytes(ByteBuffer(string: "b")))
        #expect(records[1]["timestamp"] == .int(1_700_000_000_001))
        #expect(records[0]["headers"]?.arrayValue?.first?["key"] == .string("n"))
    }

    @Test func topicIdOnlyObjectsGetADerivedName() throws {
        // Fetch v13+ names topics only by id.
        let v = normalizer.normalize(
            fetchTree(Messages.fetchResponse(records: ByteBuffer(), highWatermark: 0), version: 13), api: "Fetch", direction: .response)
        let topic = try #require(v["Responses"]?.arrayValue?.first)
        #expect(topic["TopicId"] == nil)
        #expect(topic["TopicName"] == .string("orders"))
    }

    @Test func logAppendTimeRecordsAreNoise() throws {
        let batch = KafkaRecordBatch(
            attributes: 0x08, maxTimestamp: 1234, records: [KafkaRecord(offset: 0, timestamp: 1, value: ByteBuffer(string: "x"))])
        let bytes = try KafkaRecords.encodeBatch(batch, compression: .none)
        let records = MessageNormalizer.decodedRecords(bytes)
        #expect(records.arrayValue?.first?["logAppendTime"] == .int(1234))
        let v = normalizer.normalize(fetchTree(Messages.fetchResponse(records: bytes, highWatermark: 1)), api: "Fetch", direction: .response)
        let r = try #require(v["Responses"]?.arrayValue?.first?["Partitions"]?.arrayValue?.first?["Records"]?.arrayValue?.first)
        #expect(r["logAppendTime"] == nil)
        #expect(r["value"] == .bytes(ByteBuffer(string: "x")))
    }

    @Test func strictKeepsEverything() {
        let strict = MessageNormalizer(rules: .standard(strict: true))
        var response = Messages.fetchResponse(records: ByteBuffer(), highWatermark: 0, sessionId: 5)
        response.throttleTimeMs = 3
        let v = strict.normalize(fetchTree(response), api: "Fetch", direction: .response)
        #expect(v["ThrottleTimeMs"] == .int(3))
        #expect(v["SessionId"] == .int(5))
    }

    @Test func arraysAreComparedByKeyNotPosition() {
        let a = KafkaValue.object(KafkaObject([("Topics", .array([topic("a", 1), topic("b", 2)]))]))
        let b = KafkaValue.object(KafkaObject([("Topics", .array([topic("b", 2), topic("a", 5)]))]))
        let d = ValueDiff.differences(a, b)
        #expect(d.map(\.path.description) == ["Topics[Name=a].ErrorCode"])
        #expect(d.first?.a == .int(1))
        #expect(d.first?.b == .int(5))
    }

    @Test func elementsOnOneSideAreReportedWhole() {
        let a = KafkaValue.object(KafkaObject([("Topics", .array([topic("a", 0)]))]))
        let b = KafkaValue.object(KafkaObject([("Topics", .array([topic("a", 0), topic("c", 0)]))]))
        let d = ValueDiff.differences(a, b)
        #expect(d.map(\.path.description) == ["Topics[Name=c]"])
        #expect(d.first?.a == nil)
    }

    @Test func unkeyedArraysArePositional() {
        let a = KafkaValue.object(KafkaObject([("Nodes", .array([.int(1), .int(2)]))]))
        let b = KafkaValue.object(KafkaObject([("Nodes", .array([.int(1), .int(3), .int(4)]))]))
        #expect(ValueDiff.differences(a, b).map(\.path.description) == ["Nodes[1]", "Nodes[2]"])
    }

    @Test func topicNamesAreCollectedFromAnyMessage() {
        var names: [KafkaUUID: String] = [:]
        MessageNormalizer.collectTopicNames(Messages.metadataResponse(brokers: [(1, 9092)]).kafkaValue(version: 12), into: &names)
        #expect(names == [Messages.topicId: "orders"])
    }

    func topic(_ name: String, _ error: Int64) -> KafkaValue {
        .object(KafkaObject([("Name", .string(name)), ("ErrorCode", .int(error))]))
    }
}
