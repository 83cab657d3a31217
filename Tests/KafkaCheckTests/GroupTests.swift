import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I18, I19, I20: topics and consumer groups.
@Suite struct GroupTests {
    // MARK: I18

    func createTopics(_ name: String, error: Int16 = 0) -> (CreateTopicsRequest, CreateTopicsResponse) {
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
        if error != 0 { r.errorMessage = "test: \(KafkaErrorCode.name(error))" }
        resp.topics = [r]
        return (req, resp)
    }

    @Test func i18CreatedTopicUnknownAfterwards() throws {
        let b = CaptureBuilder()
        let (req, resp) = createTopics("fresh")
        b.exchange(1, 19, 5, req, resp)
        b.exchange(2, 3, 12, Msg.metadataRequest(["fresh"]), Msg.metadata(topics: [("fresh", 0, 0)], error: 3))
        let report = b.check()
        #expect(report.ids == [18])
        #expect(try #require(report.first(18)).details["topic"] == "fresh")
    }

    @Test func i18Clean() {
        let b = CaptureBuilder()
        // Unknown before it was created is fine; so is a failed creation.
        b.exchange(2, 3, 12, Msg.metadataRequest(["fresh"]), Msg.metadata(topics: [("fresh", 0, 0)], error: 3))
        let (req, resp) = createTopics("fresh")
        b.exchange(1, 19, 5, req, resp)
        b.exchange(2, 3, 12, Msg.metadataRequest(["fresh"]), Msg.metadata(topics: [("fresh", 1, 1)]))
        let (req2, resp2) = createTopics("other", error: 36)
        b.exchange(1, 19, 5, req2, resp2)
        b.exchange(2, 3, 12, Msg.metadataRequest(["other"]), Msg.metadata(topics: [("other", 0, 0)], error: 3))
        #expect(b.check().isClean)
    }

    // MARK: I19

    func commit(_ b: CaptureBuilder, offset: Int64, metadata: String?, error: Int16 = 0) {
        var req = OffsetCommitRequest()
        req.groupId = "g"
        req.generationIdOrMemberEpoch = 1
        req.memberId = "m1"
        var t = OffsetCommitRequest.OffsetCommitRequestTopic()
        t.name = "t"
        var p = OffsetCommitRequest.OffsetCommitRequestPartition()
        p.partitionIndex = 0
        p.committedOffset = offset
        p.committedMetadata = metadata
        t.partitions = [p]
        req.topics = [t]
        var resp = OffsetCommitResponse()
        var rt = OffsetCommitResponse.OffsetCommitResponseTopic()
        rt.name = "t"
        var rp = OffsetCommitResponse.OffsetCommitResponsePartition()
        rp.partitionIndex = 0
        rp.errorCode = error
        rt.partitions = [rp]
        resp.topics = [rt]
        b.exchange(1, 8, 8, req, resp)
    }

    func fetchOffsetV7(_ b: CaptureBuilder, answer: Int64, metadata: String?) {
        var req = OffsetFetchRequest()
        req.groupId = "g"
        var t = OffsetFetchRequest.OffsetFetchRequestTopic()
        t.name = "t"
        t.partitionIndexes = [0]
        req.topics = [t]
        var resp = OffsetFetchResponse()
        var rt = OffsetFetchResponse.OffsetFetchResponseTopic()
        rt.name = "t"
        var rp = OffsetFetchResponse.OffsetFetchResponsePartition()
        rp.partitionIndex = 0
        rp.committedOffset = answer
        rp.metadata = metadata
        rt.partitions = [rp]
        resp.topics = [rt]
        b.exchange(2, 9, 7, req, resp)
    }

    func fetchOffsetV8(_ b: CaptureBuilder, answer: Int64, metadata: String?) {
        var req = OffsetFetchRequest()
        var g = OffsetFetchRequest.OffsetFetchRequestGroup()
        g.groupId = "g"
        var t = OffsetFetchRequest.OffsetFetchRequestTopics()
        t.name = "t"
        t.partitionIndexes = [0]
        g.topics = [t]
        req.groups = [g]
        var resp = OffsetFetchResponse()
        var rg = OffsetFetchResponse.OffsetFetchResponseGroup()
        rg.groupId = "g"
        var rt = OffsetFetchResponse.OffsetFetchResponseTopics()
        rt.name = "t"
        var rp = OffsetFetchResponse.OffsetFetchResponsePartitions()
        rp.partitionIndex = 0
        rp.committedOffset = answer
        rp.metadata = metadata
        rt.partitions = [rp]
        rg.topics = [rt]
        resp.groups = [rg]
        b.exchange(2, 9, 8, req, resp)
    }

    @Test func i19StaleOffset() throws {
        let b = CaptureBuilder()
        commit(b, offset: 5, metadata: "m")
        commit(b, offset: 7, metadata: "m")
        fetchOffsetV7(b, answer: 5, metadata: "m")
        let report = b.check()
        #expect(report.ids == [19])
        let f = try #require(report.first(19))
        #expect(f.details["committedOffset"] == "7" && f.details["fetchedOffset"] == "5")
    }

    @Test func i19WrongMetadataInGroupsForm() {
        let b = CaptureBuilder()
        commit(b, offset: 5, metadata: "mine")
        fetchOffsetV8(b, answer: 5, metadata: "other")
        #expect(b.check().ids == [19])
    }

    @Test func i19Clean() {
        let b = CaptureBuilder()
        fetchOffsetV7(b, answer: -1, metadata: "")
        commit(b, offset: 5, metadata: nil)
        fetchOffsetV7(b, answer: 5, metadata: "")
        commit(b, offset: 9, metadata: "x", error: 27)
        fetchOffsetV8(b, answer: 5, metadata: "")
        #expect(b.check().isClean)
    }

    // MARK: I20

    /// A generation of group `g` on topic `t` (4 partitions): members m1 (leader) and m2 join, the
    /// leader assigns, each member's SyncGroup answer delivers `delivered[member]`.
    func generation(
        assigned: [String: [(String, [Int32])]], delivered: [String: [(String, [Int32])]]? = nil,
        subscriptions: [String: [String]] = ["m1": ["t"], "m2": ["t"]], owned: [String: [(String, [Int32])]] = [:]
    ) -> CaptureBuilder {
        let b = CaptureBuilder(partitions: 4)
        var jreq = JoinGroupRequest()
        jreq.groupId = "g"
        jreq.protocolType = "consumer"
        var jresp = JoinGroupResponse()
        jresp.generationId = 3
        jresp.protocolType = "consumer"
        jresp.protocolName = "range"
        jresp.leader = "m1"
        jresp.memberId = "m1"
        jresp.members = subscriptions.keys.sorted().map { m in
            var member = JoinGroupResponse.JoinGroupResponseMember()
            member.memberId = m
            member.metadata = Msg.subscription(subscriptions[m] ?? [], owned: owned[m] ?? [])
            return member
        }
        b.exchange(1, 11, 7, jreq, jresp)
        for member in ["m1", "m2"] {
            var sreq = SyncGroupRequest()
            sreq.groupId = "g"
            sreq.generationId = 3
            sreq.memberId = member
            sreq.protocolType = "consumer"
            sreq.protocolName = "range"
            if member == "m1" {
                sreq.assignments = assigned.keys.sorted().map { m in
                    var a = SyncGroupRequest.SyncGroupRequestAssignment()
                    a.memberId = m
                    a.assignment = Msg.assignment(assigned[m] ?? [])
                    return a
                }
            }
            var sresp = SyncGroupResponse()
            sresp.protocolType = "consumer"
            sresp.protocolName = "range"
            sresp.assignment = Msg.assignment((delivered ?? assigned)[member] ?? [])
            b.exchange(member == "m1" ? 1 : 2, 14, 5, sreq, sresp)
        }
        return b
    }

    @Test func i20Clean() {
        let b = generation(assigned: ["m1": [("t", [0, 1])], "m2": [("t", [2, 3])]])
        let report = b.check()
        #expect(report.isClean, "\(report.text(capturePath: "x"))")
    }

    @Test func i20Overlap() throws {
        let report = generation(assigned: ["m1": [("t", [0, 1])], "m2": [("t", [1, 2, 3])]]).check()
        #expect(report.ids == [20])
        #expect(try #require(report.first(20)).message.contains("assigned t-1 to both m1 and m2"))
    }

    @Test func i20UnassignedPartition() throws {
        let report = generation(assigned: ["m1": [("t", [0])], "m2": [("t", [2, 3])]]).check()
        #expect(report.ids == [20])
        #expect(try #require(report.first(20)).details["partitions"] == "t-1")
    }

    @Test func i20CooperativeRevocationIsNotAGap() {
        let b = generation(
            assigned: ["m1": [("t", [0])], "m2": [("t", [2, 3])]], owned: ["m2": [("t", [1])]])
        #expect(b.check().isClean)
    }

    @Test func i20MemberReceivesSomethingElse() throws {
        let report = generation(
            assigned: ["m1": [("t", [0, 1])], "m2": [("t", [2, 3])]],
            delivered: ["m1": [("t", [0, 1])], "m2": [("t", [2])]]
        ).check()
        #expect(report.ids == [20])
        let f = try #require(report.first(20))
        #expect(f.details["member"] == "m2")
        #expect(f.message.contains("received partitions t[2] where the leader assigned t[2, 3]; first difference at byte "), "\(f.message)")
    }

    @Test func i20UnsubscribedTopic() {
        let report = generation(
            assigned: ["m1": [("t", [0, 1]), ("u", [0])], "m2": [("t", [2, 3])]]
        ).check()
        #expect(report.ids == [20])
        #expect(report.first(20)?.details["topic"] == "u")
    }
}

/// I21: timing.
@Suite struct TimingTests {
    @Test func i21SlowerThanMaxWaitPlusMargin() throws {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 0, latencyMs: 2_000)
        let report = b.check()
        #expect(report.ids == [21])
        let f = try #require(report.first(21))
        #expect(f.details["latencyMs"] == "2000" && f.details["maxWaitMs"] == "500" && f.details["marginMs"] == "1000")
    }

    @Test func i21MarginIsConfigurable() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 0, latencyMs: 2_000)
        #expect(b.check(CheckConfiguration(fetchMarginMs: 2_000)).isClean)
    }

    @Test func i21ThrottleTimeIsAllowed() {
        let b = CaptureBuilder()
        b.fetch(at: 0, hw: 0, latencyMs: 2_000, throttleMs: 1_000)
        #expect(b.check().isClean)
    }

    @Test func i21HeldWhileDataWasAvailable() throws {
        // swallow-first-record with a delay, or delay:Fetch: data was there but the answer waited.
        let b = CaptureBuilder()
        b.produce([Rec("k", "v")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("k", "v")], base: 0, latencyMs: 800)
        let report = b.check()
        #expect(report.ids == [21])
        let f = try #require(report.first(21))
        #expect(f.message.contains("already had data at its fetch offset 0"))
        #expect(f.exchanges.map(\.apiName) == ["Fetch", "Produce"])
    }

    @Test func i21LongPollWithoutDataIsFine() {
        let b = CaptureBuilder()
        b.produce([Rec("k", "v")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("k", "v")], base: 0)
        b.fetch(at: 1, hw: 1, latencyMs: 500)
        b.fetch(at: 1, hw: 1, latencyMs: 1_400)
        #expect(b.check().isClean)
    }
}
