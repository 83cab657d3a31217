import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I25, I26: answers match questions; Metadata answers every topic.
@Suite struct AnswerTests {
    func produce(_ b: CaptureBuilder, asked: [Int32], answered: [(String, Int32)]) {
        var req = Msg.produceRequest("t", asked[0], Msg.batch([Rec("k", "v")], base: 0), acks: -1)
        req.topicData[0].partitionData = asked.map { p in
            var d = ProduceRequest.PartitionProduceData()
            d.index = p
            d.records = Msg.batch([Rec("k", "v")], base: 0)
            return d
        }
        var resp = ProduceResponse()
        resp.responses = answered.map { topic, p in
            var t = Msg.produceResponse(topic, p, base: 0).responses[0]
            t.name = topic
            return t
        }
        b.exchange(1, 0, 9, req, resp)
    }

    // MARK: I25

    @Test func i25AnswerForAPartitionNotAskedAndNoneForTheOneAsked() throws {
        let b = CaptureBuilder(partitions: 2)
        produce(b, asked: [0], answered: [("t", 1)])
        let report = b.check()
        #expect(report.ids.contains(25))
        let messages = report.findings(InvariantID(25)).map(\.message)
        #expect(messages.contains("The Produce v9 response answers topic t partition 1, which the request did not ask about."))
        #expect(messages.contains("The Produce v9 response does not answer topic t partition 0, which the request asked about."))
        #expect(report.count(25) == 2)
    }

    @Test func i25TopicNeverAskedAbout() throws {
        let b = CaptureBuilder()
        var resp = Msg.listOffsetsResponse("t", 0, offset: 0)
        resp.topics.append(Msg.listOffsetsResponse("other", 0, offset: 0).topics[0])
        b.exchange(2, 2, 7, Msg.listOffsetsRequest("t", 0, -2), resp)
        let report = b.check()
        #expect(report.ids == [25])
        let f = try #require(report.first(25))
        #expect(f.message == "The ListOffsets v7 response answers topic other, which the request did not ask about.")
        #expect(f.details["kind"] == "unasked")
    }

    @Test func i25AnsweredTwice() throws {
        let b = CaptureBuilder()
        produce(b, asked: [0], answered: [("t", 0), ("t", 0)])
        let report = b.check()
        #expect(report.ids.contains(25))
        #expect(report.findings(InvariantID(25)).map(\.message) == ["The Produce v9 response answers topic t more than once."])
    }

    @Test func i25TopicIdsAreMatchedByName() throws {
        // Fetch v13 names topics by id (KIP-516): an answer for another id is not an answer.
        let b = CaptureBuilder()
        let id = KafkaUUID(high: 1, low: 2)
        var meta = Msg.metadata(topics: [("t", 1, 1)])
        meta.topics[0].topicId = id
        b.exchange(1, 3, 12, Msg.metadataRequest(["t"]), meta)
        var req = Msg.fetchRequest("t", 0, 0)
        req.topics[0].topicId = id
        var resp = Msg.fetchResponse("t", 0, hw: 0, records: nil, lso: 0)
        resp.responses[0].topicId = id
        b.exchange(2, 1, 13, req, resp)
        #expect(!b.check().ids.contains(25))
        resp.responses[0].topicId = KafkaUUID(high: 3, low: 4)
        b.exchange(2, 1, 13, req, resp)
        let report = b.check()
        #expect(report.count(25) == 2)
        #expect(report.findings(InvariantID(25)).map(\.message).contains("The Fetch v13 response does not answer topic t, which the request asked about."))
    }

    @Test func i25CleanForWhatTheProtocolAllows() {
        let b = CaptureBuilder(partitions: 2)
        // Metadata for all topics (null) answers whatever exists.
        var all = MetadataRequest()
        all.topics = nil
        b.exchange(1, 3, 12, all, Msg.metadata(topics: [("t", 2, 1), ("u", 1, 1)]))
        // An incremental fetch (KIP-227) answers only partitions with news, and may answer the session's.
        var full = Msg.fetchRequest("t", 0, 0)
        full.sessionEpoch = 0
        full.topics[0].partitions.append(full.topics[0].partitions[0])
        full.topics[0].partitions[1].partition = 1
        var fullResp = Msg.fetchResponse("t", 0, hw: 0, records: nil, lso: 0)
        fullResp.sessionId = 7
        fullResp.responses[0].partitions.append(fullResp.responses[0].partitions[0])
        fullResp.responses[0].partitions[1].partitionIndex = 1
        b.exchange(2, 1, 12, full, fullResp)
        var incremental = Msg.fetchRequest("t", 0, 0)
        incremental.sessionId = 7
        incremental.sessionEpoch = 1
        incremental.topics = []
        var incrementalResp = Msg.fetchResponse("t", 1, hw: 0, records: nil, lso: 0)
        incrementalResp.sessionId = 7
        b.exchange(2, 1, 12, incremental, incrementalResp)
        // A top-level error answers for every partition.
        var failed = FetchResponse()
        failed.errorCode = 70
        b.exchange(2, 1, 12, Msg.fetchRequest("t", 0, 0), failed)
        // A topic-level error answers for its partitions (OffsetFetch v8: a group error).
        let report = b.check()
        #expect(!report.ids.contains(25), "\(report.text(capturePath: "x"))")
        #expect(report.isClean, "\(report.text(capturePath: "x"))")
    }

    @Test func i25GroupsByIdAndNestedTopics() throws {
        // DescribeGroups asks by a list of group ids; OffsetFetch v8 by groups, then topics.
        let b = CaptureBuilder()
        var describe = DescribeGroupsRequest()
        describe.groups = ["g1"]
        var described = DescribeGroupsResponse()
        described.groups = ["g1", "g2"].map { id in
            var g = DescribeGroupsResponse.DescribedGroup()
            g.groupId = id
            return g
        }
        b.exchange(1, 15, 5, describe, described)
        var fetch = OffsetFetchRequest()
        fetch.groups = ["ok", "failed", "all"].map { id in
            var g = OffsetFetchRequest.OffsetFetchRequestGroup()
            g.groupId = id
            var t = OffsetFetchRequest.OffsetFetchRequestTopics()
            t.name = "t"
            t.partitionIndexes = [0, 1]
            g.topics = id == "all" ? nil : [t]
            return g
        }
        var fetched = OffsetFetchResponse()
        fetched.groups = ["ok", "failed", "all"].map { id in
            var g = OffsetFetchResponse.OffsetFetchResponseGroup()
            g.groupId = id
            if id == "failed" { g.errorCode = 16 }  // NOT_COORDINATOR answers for all its topics
            if id == "ok" {
                var t = OffsetFetchResponse.OffsetFetchResponseTopics()
                t.name = "t"
                var p = OffsetFetchResponse.OffsetFetchResponsePartitions()
                p.partitionIndex = 0
                t.partitions = [p]
                g.topics = [t]
            }
            return g
        }
        b.exchange(1, 9, 8, fetch, fetched)
        let report = b.check()
        // (I15: the builder's broker does not advertise DescribeGroups.)
        #expect(report.ids == [15, 25])
        let messages = report.findings(InvariantID(25)).map(\.message)
        #expect(messages == [
            "The DescribeGroups v5 response answers group g2, which the request did not ask about.",
            "The OffsetFetch v8 response does not answer group ok topic t partition 1, which the request asked about.",
        ])
    }

    // MARK: I26

    @Test func i26TopicLeftOutOfMetadata() throws {
        let b = CaptureBuilder()
        b.exchange(2, 3, 12, Msg.metadataRequest(["t", "ghost"]), Msg.metadata(topics: [("t", 1, 1)]))
        let report = b.check()
        #expect(report.ids == [26])
        let f = try #require(report.first(26))
        #expect(f.message.hasPrefix("Metadata v12 left out topic ghost, which the request named"))
        #expect(f.details["topic"] == "ghost")
    }

    @Test func i26CreatedTopicMissingFromAllTopics() throws {
        let b = CaptureBuilder()
        var create = CreateTopicsRequest()
        var t = CreateTopicsRequest.CreatableTopic()
        t.name = "fresh"
        create.topics = [t]
        var created = CreateTopicsResponse()
        var r = CreateTopicsResponse.CreatableTopicResult()
        r.name = "fresh"
        created.topics = [r]
        b.exchange(1, 19, 5, create, created)
        var all = MetadataRequest()
        all.topics = nil
        b.exchange(2, 3, 12, all, Msg.metadata(topics: [("t", 1, 1)]))
        let report = b.check()
        #expect(report.ids == [26])
        let f = try #require(report.first(26))
        #expect(f.message.contains("for all topics left out topic fresh"))
        #expect(f.exchanges.map(\.apiName) == ["Metadata", "CreateTopics"])
    }

    @Test func i26CleanWhenTheTopicComesBackWithAnError() {
        let b = CaptureBuilder()
        var resp = Msg.metadata(topics: [("t", 1, 1)])
        resp.topics.append(Msg.metadata(topics: [("ghost", 0, 0)], error: 3).topics[0])
        b.exchange(2, 3, 12, Msg.metadataRequest(["t", "ghost"]), resp)
        #expect(b.check().isClean)
    }
}

/// The session of issue #12: a CreateTopics answered -1 with an empty message, then hundreds of
/// Metadata requests for a topic that never appears. Before I22-I28, `check` called it clean.
@Suite struct IssueScenarioTests {
    @Test func aFailedCreateThenMetadataForeverIsNotClean() throws {
        let b = CaptureBuilder()
        var create = CreateTopicsRequest()
        var t = CreateTopicsRequest.CreatableTopic()
        t.name = "orders"
        t.numPartitions = 3
        t.replicationFactor = 1
        create.topics = [t]
        var created = CreateTopicsResponse()
        var r = CreateTopicsResponse.CreatableTopicResult()
        r.name = "orders"
        r.errorCode = -1
        r.errorMessage = ""
        created.topics = [r]
        b.exchange(1, 19, 5, create, created)
        for _ in 0..<200 { b.exchange(1, 3, 12, Msg.metadataRequest(["orders"]), Msg.metadata(topics: [])) }
        let report = b.check()
        #expect(report.ids == [22, 23, 26, 28])
        #expect(report.count(26) == 200)
        #expect(report.count(28) == 1)
        let text = report.text(capturePath: "issue.ktape")
        #expect(text.contains("CreateTopics v5 answered UNKNOWN_SERVER_ERROR (-1) at Topics[orders], with no error message."))
        #expect(text.contains("Metadata v12 left out topic orders, which the request named"))
        #expect(text.contains("(×100)"), "the report lists the first 100 kept findings once: \(text)")
        #expect(text.contains("Client test-client sent Metadata for topic orders 200 times in a row, and every answer was the same: an empty answer."))
        let json = report.json(capturePath: "issue.ktape")
        #expect(json.contains("\"id\":\"I28\""))
    }
}
