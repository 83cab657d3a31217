import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I33 (JoinGroup protocol choice) and what I20 says when a member's assignment differs.
@Suite struct GroupProtocolTests {
    /// Members join generation 5 of group g offering `offers`; the coordinator answers `chosen`.
    func join(_ offers: [String: [String]], chosen: String, leader: String = "m1") -> CaptureBuilder {
        let b = CaptureBuilder()
        for (i, member) in offers.keys.sorted().enumerated() {
            var req = JoinGroupRequest()
            req.groupId = "g"
            req.memberId = member
            req.protocolType = "consumer"
            req.protocols = (offers[member] ?? []).map { name in
                var p = JoinGroupRequest.JoinGroupRequestProtocol()
                p.name = name
                p.metadata = Msg.subscription(["t"])
                return p
            }
            var resp = JoinGroupResponse()
            resp.generationId = 5
            resp.protocolType = "consumer"
            resp.protocolName = chosen
            resp.leader = leader
            resp.memberId = member
            if member == leader {
                resp.members = offers.keys.sorted().map { m in
                    var x = JoinGroupResponse.JoinGroupResponseMember()
                    x.memberId = m
                    x.metadata = Msg.subscription(["t"])
                    return x
                }
            }
            b.exchange(UInt64(1 + i % 2), 11, 7, req, resp)
        }
        return b
    }

    @Test func i33ProtocolAMemberDoesNotSupport() throws {
        let report = join(["m1": ["range", "cooperative-sticky"], "m2": ["cooperative-sticky"]], chosen: "range").check()
        #expect(report.ids == [33])
        let f = try #require(report.first(33))
        #expect(f.message == "In group g generation 5 the coordinator chose protocol range, which member m2 does not support (it offered cooperative-sticky).")
        #expect(f.details["member"] == "m2")
    }

    @Test func i33NotTheMembersPreference() throws {
        let report = join(["m1": ["sticky", "range"], "m2": ["sticky", "range"], "m3": ["range", "sticky"]], chosen: "range").check()
        #expect(report.ids == [33])
        let f = try #require(report.first(33))
        #expect(f.message == "In group g generation 5 the coordinator chose protocol range, but the members' order of preference picks sticky (votes: range=1,sticky=2).")
    }

    @Test func i33CleanForTheVoteWinnerOrATie() {
        #expect(join(["m1": ["sticky", "range"], "m2": ["range", "sticky"], "m3": ["sticky"]], chosen: "sticky").check().isClean)
        // A tie (one vote each): Kafka picks either.
        #expect(join(["m1": ["sticky", "range"], "m2": ["range", "sticky"]], chosen: "range").check().isClean)
    }

    // MARK: I20 says what differs

    @Test func i20SamePartitionsOtherUserData() throws {
        var a = ConsumerProtocolAssignment()
        var tp = ConsumerProtocolAssignment.TopicPartition()
        tp.topic = "t"
        tp.partitions = [0, 1]
        a.assignedPartitions = [tp]
        a.userData = ByteBuffer(bytes: [1, 2, 3])
        let withUserData = Msg.consumerBlob(a, version: 1)
        let b = CaptureBuilder(partitions: 2)
        var jreq = JoinGroupRequest()
        jreq.groupId = "g"
        jreq.protocolType = "consumer"
        var jresp = JoinGroupResponse()
        jresp.generationId = 1
        jresp.protocolType = "consumer"
        jresp.protocolName = "range"
        jresp.leader = "m1"
        jresp.memberId = "m1"
        var member = JoinGroupResponse.JoinGroupResponseMember()
        member.memberId = "m1"
        member.metadata = Msg.subscription(["t"])
        jresp.members = [member]
        b.exchange(1, 11, 7, jreq, jresp)
        var sreq = SyncGroupRequest()
        sreq.groupId = "g"
        sreq.generationId = 1
        sreq.memberId = "m1"
        var assignment = SyncGroupRequest.SyncGroupRequestAssignment()
        assignment.memberId = "m1"
        assignment.assignment = withUserData
        sreq.assignments = [assignment]
        var sresp = SyncGroupResponse()
        sresp.assignment = Msg.assignment([("t", [0, 1])])
        b.exchange(1, 14, 5, sreq, sresp)
        let report = b.check()
        #expect(report.ids == [20])
        let f = try #require(report.first(20))
        // Not "received t[0, 1] but the leader assigned it t[0, 1]": the field and the bytes.
        #expect(f.message.contains("received UserData null where the leader assigned 3 bytes; first difference at byte "), "\(f.message)")
        #expect(f.message.contains("ff ff ff ff where the leader's bytes are 00 00 00 03 01 02 03"), "\(f.message)")
        #expect(!f.message.contains("partitions"))
    }
}
