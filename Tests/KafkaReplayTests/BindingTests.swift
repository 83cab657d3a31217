import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaReplay

@Suite struct BindingTests {
    func initProducerIdResponse(_ id: Int64, _ epoch: Int16) -> KafkaValue {
        var r = InitProducerIdResponse()
        r.producerId = id
        r.producerEpoch = epoch
        return r.kafkaValue(version: 4)
    }

    @Test func learnsFromResponsePairsAndSkipsSentinels() {
        var table = BindingTable()
        let learned = table.learn(recorded: initProducerIdResponse(7, 0), replayed: initProducerIdResponse(42, 3))
        #expect(Set(learned.map(\.kind)) == ["producerId", "producerEpoch"])
        #expect(table.mapped(.producerId, .int(7)) == .int(42))
        #expect(table.mapped(.producerEpoch, .int(0)) == .int(3))
        #expect(table.hasSubstitutions)
        var t2 = BindingTable()
        t2.learn(recorded: initProducerIdResponse(-1, -1), replayed: initProducerIdResponse(5, 0))
        #expect(t2.mapped(.producerId, .int(-1)) == nil)
    }

    @Test func topicIdsAreLearnedByTopicNameNotPosition() {
        let other = KafkaUUID(high: 9, low: 9)
        let replayId = KafkaUUID(high: 7, low: 7)
        let replayOther = KafkaUUID(high: 8, low: 8)
        let recorded = Messages.metadataResponse(brokers: [(1, 9092)], topics: [("orders", Messages.topicId, 0), ("pay", other, 0)])
        let replayed = Messages.metadataResponse(brokers: [(1, 9092)], topics: [("pay", replayOther, 0), ("orders", replayId, 0)])
        var table = BindingTable()
        table.learn(recorded: recorded.kafkaValue(version: 12), replayed: replayed.kafkaValue(version: 12))
        #expect(table.mapped(.topicId, .uuid(Messages.topicId)) == .uuid(replayId))
        #expect(table.mapped(.topicId, .uuid(other)) == .uuid(replayOther))
    }

    @Test func substitutesUuidIntAndStringFieldsInPlace() throws {
        var table = BindingTable()
        let newId = KafkaUUID(high: 0xAAAA, low: 0xBBBB)
        table.learn(
            recorded: Messages.metadataResponse(brokers: [(1, 9092)]).kafkaValue(version: 12),
            replayed: Messages.metadataResponse(brokers: [(1, 9092)], topics: [("orders", newId, 0)]).kafkaValue(version: 12))
        var fetchSession = FetchResponse()
        fetchSession.sessionId = 1000
        var replaySession = FetchResponse()
        replaySession.sessionId = 2000
        table.learn(recorded: fetchSession.kafkaValue(version: 13), replayed: replaySession.kafkaValue(version: 13))

        let payload = SessionBuilder.requestPayload(
            Messages.fetchRequest(offset: 5, sessionId: 1000, epoch: 3), apiKey: 1, version: 13, correlationId: 9)
        let result = try RequestRewriter.rewrite(payload, bindings: table)
        #expect(Set(result.edits.map(\.kind)) == ["topicId", "fetchSessionId"])
        let decoded = try KafkaFrameCodec.decodeRequest(result.payload)
        let fetch = try #require(decoded.body as? FetchRequest)
        #expect(fetch.sessionId == 2000)
        #expect(fetch.sessionEpoch == 3)
        #expect(fetch.topics.first?.topicId == newId)
        #expect(fetch.topics.first?.partitions.first?.fetchOffset == 5)
        #expect(decoded.header.correlationId == 9)
        #expect(result.payload.readableBytes == payload.readableBytes)
    }

    @Test(arguments: [Int16(3), Int16(5)])  // classic and compact strings
    func substitutesMemberIdsOfAnotherLength(version: Int16) throws {
        var table = BindingTable()
        var recorded = JoinGroupResponse()
        recorded.memberId = "client-1-abc"
        recorded.generationId = 1
        var replayed = JoinGroupResponse()
        replayed.memberId = "client-1-a-much-longer-member-id"
        replayed.generationId = 4
        table.learn(recorded: recorded.kafkaValue(version: version), replayed: replayed.kafkaValue(version: version))

        var sync = SyncGroupRequest()
        sync.groupId = "g"
        sync.generationId = 1
        sync.memberId = "client-1-abc"
        var a = SyncGroupRequest.SyncGroupRequestAssignment()
        a.memberId = "client-1-abc"
        a.assignment = ByteBuffer(string: "client-1-abc")  // bytes that merely look alike stay
        sync.assignments = [a]
        let payload = SessionBuilder.requestPayload(sync, apiKey: 14, version: version, correlationId: 4)
        let result = try RequestRewriter.rewrite(payload, bindings: table)
        #expect(result.edits.count == 3)
        let out = try #require(try KafkaFrameCodec.decodeRequest(result.payload).body as? SyncGroupRequest)
        #expect(out.memberId == "client-1-a-much-longer-member-id")
        #expect(out.generationId == 4)
        #expect(out.assignments.first?.memberId == "client-1-a-much-longer-member-id")
        #expect(out.assignments.first?.assignment == ByteBuffer(string: "client-1-abc"))
    }

    @Test func recordBatchesFollowTheProducerIdWithAValidCrc() throws {
        var table = BindingTable()
        table.learn(recorded: initProducerIdResponse(7, 0), replayed: initProducerIdResponse(42, 2))
        let records = Messages.batch(["a", "b", "c"], producerId: 7, producerEpoch: 0)
        let payload = SessionBuilder.requestPayload(Messages.produceRequest(records), apiKey: 0, version: 9, correlationId: 3)
        let result = try RequestRewriter.rewrite(payload, bindings: table)
        #expect(result.edits.map(\.kind) == ["producerId"])
        let produce = try #require(try KafkaFrameCodec.decodeRequest(result.payload).body as? ProduceRequest)
        let bytes = try #require(produce.topicData.first?.partitionData.first?.records)
        let set = try KafkaRecords.decode(bytes, verifyCRC: true, strict: true)
        #expect(set.batches.first?.producerId == 42)
        #expect(set.batches.first?.producerEpoch == 2)
        #expect(set.records.map { String(buffer: $0.value ?? ByteBuffer()) } == ["a", "b", "c"])
        // Only the producer fields and the CRC changed.
        let before = Array(records.readableBytesView)
        let after = Array(bytes.readableBytesView)
        let changed = zip(before, after).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
        #expect(changed.allSatisfy { (17..<21).contains($0) || (43..<53).contains($0) })
    }

    @Test func nothingToSubstituteMeansBytesUntouched() throws {
        let table = BindingTable()
        let payload = SessionBuilder.requestPayload(Messages.fetchRequest(offset: 0), apiKey: 1, version: 12, correlationId: 1)
        let result = try RequestRewriter.rewrite(payload, bindings: table)
        #expect(result.payload == payload)
        #expect(result.edits.isEmpty)
    }

    @Test func rewriterSetsTheFieldThroughTheCodec() throws {
        // GenerationId 1: the int 1 also appears in other places of the bytes; the edit goes by field.
        var hb = HeartbeatRequest()
        hb.groupId = "g"
        hb.generationId = 1
        hb.memberId = "m"
        let payload = SessionBuilder.requestPayload(hb, apiKey: 12, version: 1, correlationId: 1)
        var table = BindingTable()
        var replayed = hb
        replayed.generationId = 77
        var answer = HeartbeatResponse()
        answer.errorCode = 0
        _ = table.learn(recorded: .object(KafkaObject([("GenerationId", .int(1))])), replayed: .object(KafkaObject([("GenerationId", .int(77))])))
        let result = try RequestRewriter.rewrite(payload, bindings: table)
        let decoded = try #require(try KafkaFrameCodec.decodeRequest(result.payload).body as? HeartbeatRequest)
        #expect(decoded.generationId == 77)
        #expect(decoded.memberId == "m" && decoded.groupId == "g")
        #expect(try KafkaFrameCodec.decodeRequest(result.payload).header.correlationId == 1)
        #expect(result.edits.map(\.path.description) == ["GenerationId"])
        // Everything but the field is the recorded bytes.
        #expect(result.payload.readableBytes == payload.readableBytes)
    }

    @Test func anEditTheMessageCannotTakeFails() {
        var hb = HeartbeatRequest()
        hb.generationId = 1
        let tooLarge = hb.setField([.field("GenerationId")], to: .int(Int64(Int32.max) + 1), version: 1)
        let wrongType = hb.setField([.field("GenerationId")], to: .string("1"), version: 1)
        let notInVersion = hb.setField([.field("GroupInstanceId")], to: .string("i"), version: 1)
        #expect(!tooLarge && !wrongType)
        #expect(!notInVersion, "GroupInstanceId exists from v3")
        #expect(hb.generationId == 1)
    }
}
