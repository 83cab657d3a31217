import KafkaCapture
import KafkaCheck
import KafkaProtocol
import Testing

/// I22, I23, I24, I34: error answers.
@Suite struct ErrorAnswerTests {
    func createTopics(_ name: String, error: Int16, message: String?) -> (CreateTopicsRequest, CreateTopicsResponse) {
        var req = CreateTopicsRequest()
        var t = CreateTopicsRequest.CreatableTopic()
        t.name = name
        t.numPartitions = 1
        t.replicationFactor = 1
        req.topics = [t]
        var resp = CreateTopicsResponse()
        var r = CreateTopicsResponse.CreatableTopicResult()
        r.name = name
        r.errorCode = error
        r.errorMessage = message
        resp.topics = [r]
        return (req, resp)
    }

    func produceResponse(error: Int16, message: String?) -> ProduceResponse {
        var r = Msg.produceResponse("t", 0, base: -1, error: error)
        r.responses[0].partitionResponses[0].errorMessage = message
        return r
    }

    // MARK: I22

    @Test func i22UnknownServerErrorWithAnEmptyMessage() throws {
        // The issue's session: CreateTopics answered -1 and "".
        let b = CaptureBuilder()
        let (req, resp) = createTopics("fresh", error: -1, message: "")
        b.exchange(1, 19, 5, req, resp)
        let report = b.check()
        #expect(report.ids == [22, 23])
        let f = try #require(report.first(22))
        #expect(f.message == "CreateTopics v5 answered UNKNOWN_SERVER_ERROR (-1) at Topics[fresh], with no error message.")
        #expect(f.details["path"] == "Topics[fresh]")
        #expect(try #require(report.first(23)).details["errorMessage"] == "empty")
    }

    @Test func i22QuotesTheBrokersMessage() throws {
        let b = CaptureBuilder()
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, Msg.batch([Rec("k", "v")], base: 0), acks: -1),
            produceResponse(error: -1, message: "NullPointerException"))
        let report = b.check()
        #expect(report.ids == [22])
        #expect(try #require(report.first(22)).message.contains("error message \"NullPointerException\""))
    }

    // MARK: I34

    @Test func i34AWellFormedProduceAnsweredInvalidRequest() throws {
        // kafka-go's Produce v2 on SeaweedFS's gateway: a magic-1 message set, refused as malformed.
        let b = CaptureBuilder()
        let records = try KafkaRecords.encodeLegacy(
            [Msg.record(Rec("k0", "v0"), offset: 0), Msg.record(Rec("k1", "v1"), offset: 1)], magic: 1, compression: .none, baseOffset: 0)
        b.exchange(1, 0, 2, Msg.produceRequest("t", 0, records, acks: -1), Msg.produceResponse("t", 0, base: 0, error: 42))
        let report = b.check()
        #expect(report.ids == [34], "\(report.text(capturePath: "x"))")
        let f = try #require(report.first(34))
        #expect(
            f.message
                == "Produce v2 was answered INVALID_REQUEST (42) at Responses[t].PartitionResponses[0], though the request decodes exactly under its schema (its records: magic-1 message sets): the broker could not parse what the protocol allows, or refused it for a reason of its own; this version's answer has no error message to say why.")
        #expect(f.details["recordFormat"] == "1")
    }

    @Test func i34QuotesTheReasonTheBrokerGives() throws {
        let b = CaptureBuilder()
        let (req, resp) = createTopics("t", error: 42, message: "Both numPartitions and replicasAssignments were set.")
        b.exchange(1, 19, 5, req, resp)
        let f = try #require(b.check().first(34))
        #expect(f.message.hasSuffix("; its error message: \"Both numPartitions and replicasAssignments were set.\"."), "\(f.message)")
        #expect(f.details["recordFormat"] == nil)
    }

    @Test func i34JudgesOnlyRequestsThatDecode() throws {
        // The same refusal of a request whose bytes do not decode is the client's problem (I14 says so).
        let b = CaptureBuilder()
        var h = RequestHeader()
        h.requestApiKey = 19
        h.requestApiVersion = 5
        h.correlationId = 1
        h.clientId = "test-client"
        var payload = KafkaFrameCodec.encodeRequest(header: h, body: createTopics("t", error: 0, message: nil).0)
        payload.writeBytes([1, 2, 3])
        b.add(.frame(FrameRecord(time: b.ts(), connectionId: 1, direction: .request, payload: payload)))
        b.response(1, 1, 19, 5, createTopics("t", error: 42, message: nil).1)
        let report = b.check()
        #expect(!report.ids.contains(34), "\(report.text(capturePath: "x"))")
        #expect(report.ids.contains(14))
    }

    @Test func i22CleanForOrdinaryErrors() {
        let b = CaptureBuilder()
        let (req, resp) = createTopics("t", error: 36, message: "Topic 't' already exists.")
        b.exchange(1, 19, 5, req, resp)
        #expect(b.check().isClean)
    }

    // MARK: I23

    @Test func i23NullErrorMessageWhereTheVersionHasOne() throws {
        let b = CaptureBuilder()
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, Msg.batch([Rec("k", "v")], base: 0), acks: -1),
            produceResponse(error: 6, message: nil))
        let report = b.check()
        #expect(report.ids == [23])
        let f = try #require(report.first(23))
        #expect(f.message == "Produce v9 answered NOT_LEADER_OR_FOLLOWER (6) at Responses[t].PartitionResponses[0] with a null ErrorMessage.")
        #expect(f.details["errorMessage"] == "null")
        #expect(InvariantCatalog.descriptor(InvariantID(23))?.level == .lint)
    }

    @Test func i23CleanWithAMessageOrWithoutTheField() {
        let b = CaptureBuilder()
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, Msg.batch([Rec("k", "v")], base: 0), acks: -1),
            produceResponse(error: 6, message: "This server is not the leader for that topic-partition."))
        // Produce v7 has no ErrorMessage (KIP-467 added it in v8): nothing to fill.
        b.exchange(1, 0, 7, Msg.produceRequest("t", 0, Msg.batch([Rec("k", "v")], base: 0), acks: -1),
            produceResponse(error: 6, message: nil))
        #expect(b.check().isClean)
    }

    // MARK: I24

    func initProducerId(_ version: Int16, error: Int16) -> CaptureBuilder {
        // No ApiVersions: the builder's broker does not advertise InitProducerId (I15 is skipped).
        let b = CaptureBuilder(metadata: false)
        var req = InitProducerIdRequest()
        req.transactionalId = "tx"
        req.transactionTimeoutMs = 60_000
        var resp = InitProducerIdResponse()
        resp.errorCode = error
        resp.producerId = -1
        b.exchange(1, 22, version, req, resp)
        return b
    }

    @Test func i24CodeIntroducedByALaterVersion() throws {
        // PRODUCER_FENCED came with InitProducerId v4 (KIP-588); v3 clients get INVALID_PRODUCER_EPOCH.
        let report = initProducerId(3, error: 90).check()
        #expect(report.ids == [24])
        let f = try #require(report.first(24))
        #expect(f.message.hasPrefix("InitProducerId v3 answered PRODUCER_FENCED (90), which InitProducerId can return only from v4"))
        #expect(f.message.contains("KIP-588"))
        #expect(f.details["minVersion"] == "4")
    }

    @Test func i24CleanFromTheIntroducingVersion() {
        #expect(initProducerId(4, error: 90).check().isClean)
        #expect(initProducerId(3, error: 47).check().isClean)
    }

    @Test func i24NestedCodesAreFound() throws {
        // A Fetch v8 partition answered FENCED_LEADER_EPOCH, which needs CurrentLeaderEpoch (v9+, KIP-320).
        let b = CaptureBuilder()
        b.exchange(2, 1, 8, Msg.fetchRequest("t", 0, 0), Msg.fetchResponse("t", 0, hw: 0, records: nil, error: 74, lso: 0))
        let report = b.check()
        #expect(report.ids.contains(24))
        #expect(try #require(report.first(24)).details["path"] == "Responses[t].Partitions[0]")
    }

    @Test func errorCodeTableIsConsistent() {
        #expect(ErrorCodeIntroduction.all.count >= 30)
        var seen: Set<String> = []
        for e in ErrorCodeIntroduction.all {
            #expect(KafkaErrorCode.name(e.errorCode) == e.errorName, "\(e)")
            let api = KafkaAPIs.descriptor(apiKey: e.apiKey)
            #expect(api != nil, "\(e)")
            if let api { #expect(e.minVersion > api.versions.lowerBound && e.minVersion <= api.versions.upperBound, "\(e)") }
            #expect(!e.source.isEmpty)
            #expect(seen.insert("\(e.apiKey):\(e.errorCode)").inserted, "duplicate \(e)")
        }
    }
}
