import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// I13, I14, I15, I16, I17: framing, ordering, versions, tagged fields, addresses.
@Suite struct ProtocolTests {
    // MARK: I13

    @Test func i13ResponsesOutOfOrder() throws {
        let b = CaptureBuilder()
        let c1 = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        let c2 = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        b.response(2, c2, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        b.response(2, c1, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        let report = b.check()
        #expect(report.ids == [13])
        #expect(try #require(report.first(13)).message.contains("#\(c2)"))
    }

    @Test func i13DuplicateResponse() throws {
        // The duplicate-correlation-id fault: the same correlation id answered twice.
        let b = CaptureBuilder()
        let c = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        b.response(2, c, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        b.response(2, c, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        let report = b.check()
        #expect(report.ids == [13])
        #expect(try #require(report.first(13)).message.contains("matches no outstanding request"))
    }

    @Test func i13CorrelationIdReusedWhileOutstanding() {
        let b = CaptureBuilder()
        let c = b.request(2, 3, 12, Msg.metadataRequest(["t"]), correlationId: 40)
        b.request(2, 3, 12, Msg.metadataRequest(["t"]), correlationId: 40)
        b.response(2, c, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        b.response(2, c, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        let report = b.check()
        #expect(report.ids == [13])
        #expect(report.first(13)?.message.contains("reused correlation id 40") == true)
    }

    @Test func i13UnansweredWhenTheBrokerCloses() throws {
        let b = CaptureBuilder()
        b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        b.close(2, by: .broker)
        let report = b.check()
        #expect(report.ids == [13])
        #expect(try #require(report.first(13)).details["closedBy"] == "broker")
    }

    @Test func i13CleanWhenTheClientGivesUpOrTheCaptureEnds() {
        let b = CaptureBuilder()
        b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        b.close(2, by: .client)
        b.request(1, 3, 12, Msg.metadataRequest(["t"]))
        b.produce([Rec("k", "v")], base: 0, acks: 0)
        let report = b.check()
        #expect(report.isClean)
        #expect(report.notes.contains { $0.contains("still outstanding when the capture ended") })
    }

    // MARK: I14

    @Test func i14TrailingBytes() throws {
        let b = CaptureBuilder()
        let c = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        var h = ResponseHeader()
        h.correlationId = c
        var payload = KafkaFrameCodec.encodeResponse(header: h, body: Msg.metadata(topics: [("t", 1, 1)]), apiKey: 3, apiVersion: 12)
        payload.writeBytes([0, 0])
        b.rawResponse(2, payload)
        let report = b.check()
        #expect(report.ids == [14])
        let f = try #require(report.first(14))
        #expect(f.message.contains("2 bytes left over"))
        #expect(f.details["side"] == "response")
    }

    @Test func i14NamesTheVersionWhoseLayoutAnAnswerHas() throws {
        // SeaweedFS's gateway answers Fetch v4 with v5's layout (LogStartOffset included): a v4 reader
        // takes its first bytes for the aborted transactions and the records, and 164 bytes are left.
        let b = CaptureBuilder()
        let c = b.request(2, 1, 4, Msg.fetchRequest("t", 0, 0))
        var h = ResponseHeader()
        h.correlationId = c
        let body = Msg.fetchResponse("t", 0, hw: 1, records: Msg.batch([Rec("k", "v")], base: 0), lso: 1)
        b.rawResponse(2, KafkaFrameCodec.encodeResponse(header: h, body: body, apiKey: 1, apiVersion: 5))
        let report = b.check()
        let f = try #require(report.first(14))
        #expect(f.message.hasSuffix("; it decodes exactly as v5-v6: the answer has another version's layout than the one asked for."), "\(f.message)")
        #expect(f.details["decodesAs"] == "5,6")
        // Bytes no version reads say nothing more.
        let d = CaptureBuilder()
        let c2 = d.request(2, 3, 12, Msg.metadataRequest(["t"]))
        h.correlationId = c2
        var payload = KafkaFrameCodec.encodeResponse(header: h, body: Msg.metadata(topics: [("t", 1, 1)]), apiKey: 3, apiVersion: 12)
        payload.writeBytes([0xff, 0xff, 0xff])
        d.rawResponse(2, payload)
        let plain = try #require(d.check().first(14))
        #expect(!plain.message.contains("decodes exactly as"), "\(plain.message)")
        #expect(plain.details["decodesAs"] == nil)
    }

    @Test func i14ApiVersionsV0FallbackIsNotAFinding() {
        // KIP-511: a version the broker does not support is answered in v0 with error 35.
        let b = CaptureBuilder()
        let c = b.request(3, 18, 4, ApiVersionsRequest())
        b.response(3, c, 18, 0, Msg.apiVersions([(18, 0, 3)], error: 35))
        b.exchange(3, 18, 3, ApiVersionsRequest(), Msg.apiVersions())
        #expect(b.check().isClean)
    }

    // MARK: I15

    @Test func i15RequestBeyondAdvertisedVersions() throws {
        let b = CaptureBuilder(metadata: false)
        b.exchange(2, 18, 3, ApiVersionsRequest(), Msg.apiVersions([(1, 4, 11), (18, 0, 3)]))
        b.exchange(2, 1, 12, Msg.fetchRequest("t", 0, 0), Msg.fetchResponse("t", 0, hw: 0, records: nil, lso: 0), latencyMs: 500)
        let report = b.check()
        #expect(report.ids == [15])
        let f = try #require(report.first(15))
        #expect(f.message.contains("Fetch v12, outside the versions 4-11"))
        #expect(f.message.contains("without UNSUPPORTED_VERSION"))
    }

    @Test func i15ApiNotAdvertised() {
        let b = CaptureBuilder(metadata: false)
        b.exchange(2, 18, 3, ApiVersionsRequest(), Msg.apiVersions([(18, 0, 3)]))
        b.exchange(2, 3, 12, Msg.metadataRequest([]), Msg.metadata(topics: []))
        #expect(b.check().ids == [15])
    }

    @Test func i15BrokerAcceptsApiVersionsBeyondItsOwnRange() {
        let b = CaptureBuilder(metadata: false)
        b.exchange(3, 18, 3, ApiVersionsRequest(), Msg.apiVersions([(18, 0, 2)]))
        #expect(b.check().ids == [15])
    }

    @Test func i15Clean() {
        let b = CaptureBuilder()
        b.produce([Rec("k", "v")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("k", "v")], base: 0)
        let report = b.check()
        #expect(report.isClean)
        #expect(!report.notes.contains { $0.contains("I15 skipped") })
    }

    // MARK: I16

    func fetchAnswer(currentLeader: FetchResponse.LeaderIdAndEpoch?) -> FetchResponse {
        var r = Msg.fetchResponse("t", 0, hw: 0, records: nil, lso: 0)
        r.responses[0].partitions[0].currentLeader = currentLeader
        return r
    }

    @Test func i16TaggedStructAtDefault() throws {
        let b = CaptureBuilder()
        b.exchange(2, 1, 12, Msg.fetchRequest("t", 0, 0), fetchAnswer(currentLeader: FetchResponse.LeaderIdAndEpoch()), latencyMs: 500)
        b.exchange(2, 1, 12, Msg.fetchRequest("t", 0, 0), fetchAnswer(currentLeader: FetchResponse.LeaderIdAndEpoch()), latencyMs: 500)
        let report = b.check()
        #expect(report.ids == [16])
        let f = try #require(report.first(16))
        #expect(f.details["field"] == "FetchResponse.Responses.Partitions.CurrentLeader")
        #expect(f.details["value"] == #"{"LeaderId":-1,"LeaderEpoch":-1}"#)
        #expect(f.details["count"] == "2")
        #expect(f.details["side"] == "broker")
        #expect(InvariantCatalog.descriptor(InvariantID(16))?.level == .lint)
    }

    @Test func i16TaggedFieldsWithValuesOrAbsent() {
        var leader = FetchResponse.LeaderIdAndEpoch()
        leader.leaderId = 1
        leader.leaderEpoch = 5
        let b = CaptureBuilder()
        b.exchange(2, 1, 12, Msg.fetchRequest("t", 0, 0), fetchAnswer(currentLeader: leader), latencyMs: 500)
        b.exchange(2, 1, 12, Msg.fetchRequest("t", 0, 0), fetchAnswer(currentLeader: nil), latencyMs: 500)
        #expect(b.check().isClean)
    }

    @Test func i16ScalarDefaultsIncludingSpecDefaults() throws {
        var atDefault = Msg.apiVersions()
        atDefault.finalizedFeaturesEpoch = -1
        atDefault.zkMigrationReady = false
        var withValues = Msg.apiVersions()
        withValues.finalizedFeaturesEpoch = 0
        withValues.zkMigrationReady = true
        let b = CaptureBuilder(metadata: false)
        b.exchange(1, 18, 3, ApiVersionsRequest(), atDefault)
        b.exchange(2, 18, 3, ApiVersionsRequest(), withValues)
        let report = b.check()
        #expect(report.ids == [16])
        #expect(Set(report.findings(InvariantID(16)).compactMap { $0.details["field"] }) == [
            "ApiVersionsResponse.FinalizedFeaturesEpoch", "ApiVersionsResponse.ZkMigrationReady",
        ])
    }

    @Test func i16RequestSideNullableDefault() throws {
        var req = Msg.fetchRequest("t", 0, 0)
        req.clusterId = .some(nil)
        let b = CaptureBuilder()
        b.exchange(2, 1, 12, req, Msg.fetchResponse("t", 0, hw: 0, records: nil, lso: 0), latencyMs: 500)
        let f = try #require(b.check().first(16))
        #expect(f.details["side"] == "client")
        #expect(f.details["field"] == "FetchRequest.ClusterId")
    }

    // MARK: I17

    func realMetadata() -> MetadataResponse { Msg.metadata(brokers: [(0, "broker.internal", 9092)], topics: [("t", 1, 1)]) }

    func rewriteEvent(_ b: CaptureBuilder, conn: UInt64, corr: Int32, to host: String, _ port: Int32) {
        var h = ResponseHeader()
        h.correlationId = corr
        let payload = KafkaFrameCodec.encodeResponse(
            header: h, body: Msg.metadata(brokers: [(0, host, port)], topics: [("t", 1, 1)]), apiKey: 3, apiVersion: 12)
        b.add(
            .event(
                EventRecord(
                    time: b.ts(), connectionId: conn, kind: .rewrite, message: "rewrote 1 broker address",
                    attributes: [.init("correlationId", String(corr)), .init("apiKey", "3"), .init("apiVersion", "12")],
                    payload: payload)))
    }

    @Test func i17NoRewriteRecorded() throws {
        let b = CaptureBuilder()
        b.exchange(2, 3, 12, Msg.metadataRequest(["t"]), realMetadata())
        let report = b.check()
        #expect(report.ids == [17])
        let f = try #require(report.first(17))
        #expect(f.message.contains("broker.internal:9092 (node 0)"))
        #expect(f.details["rewrite"] == "missing")
    }

    @Test func i17RewriteToAProxyListener() {
        let b = CaptureBuilder()
        b.add(
            .addressMapping(
                AddressMappingRecord(
                    time: b.ts(), nodeId: 0, upstreamHost: "broker.internal", upstreamPort: 9092, proxyHost: "127.0.0.1",
                    proxyPort: 19093)))
        let c = b.exchange(2, 3, 12, Msg.metadataRequest(["t"]), realMetadata())
        rewriteEvent(b, conn: 2, corr: c, to: "127.0.0.1", 19093)
        // The event may also come before its exchange is complete.
        let c2 = b.request(1, 3, 12, Msg.metadataRequest(["t"]))
        rewriteEvent(b, conn: 1, corr: c2, to: "127.0.0.1", 19093)
        b.response(1, c2, 3, 12, realMetadata())
        #expect(b.check().isClean)
    }

    @Test func i17RewriteStillPointsAtTheBroker() throws {
        let b = CaptureBuilder()
        let c = b.exchange(2, 3, 12, Msg.metadataRequest(["t"]), realMetadata())
        rewriteEvent(b, conn: 2, corr: c, to: "10.0.0.9", 9092)
        let report = b.check()
        #expect(report.ids == [17])
        #expect(try #require(report.first(17)).details["rewrite"] == "incomplete")
    }

    @Test func i17SkippedForPcapImports() {
        let b = CaptureBuilder(metadata: false)
        b.open(7, role: "pcap", listener: "", upstream: "10.0.0.1:9092")
        b.exchange(7, 3, 12, Msg.metadataRequest(["t"]), realMetadata())
        let report = CheckEngine.check(
            b.records.filter { if case .connectionOpened(let o) = $0 { return o.role == "pcap" } else { return true } })
        #expect(report.isClean)
        #expect(report.notes.contains { $0.contains("I17 skipped: a pcap import has no proxy") })
    }
}
