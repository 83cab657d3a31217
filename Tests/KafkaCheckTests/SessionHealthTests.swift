import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaCheck

/// I27, I28, I29, and the engine changes: re-encoding (I14), the ApiVersions fallback in
/// `DecodedExchange`, linear correlation tracking (I13).
@Suite struct SessionHealthTests {
    // MARK: I27

    func unreachable(_ b: CaptureBuilder, connection: UInt64?) {
        b.add(
            .event(
                EventRecord(
                    time: b.ts(), connectionId: connection, kind: .upstreamUnreachable,
                    message: "cannot connect to upstream broker:9092: connection refused")))
    }

    @Test func i27UnreachableUpstreamIsAFinding() throws {
        let b = CaptureBuilder()
        b.open(3)
        unreachable(b, connection: 3)
        b.close(3, by: .proxy)
        b.open(4)
        unreachable(b, connection: 4)
        b.close(4, by: .proxy)
        let report = b.check()
        #expect(report.ids == [27])
        #expect(report.count(27) == 2)
        let f = try #require(report.first(27))
        #expect(f.message == "The proxy recorded that a connection could not reach the broker at broker:9092: cannot connect to upstream broker:9092: connection refused.")
        // Repeats of one failure are aggregated.
        #expect(report.text(capturePath: "c").contains("connection refused. (×2)"))
    }

    @Test func i27NodeListenerFailure() throws {
        let b = CaptureBuilder()
        b.add(.event(EventRecord(time: b.ts(), kind: .upstreamUnreachable, message: "could not listen for node 2 on port 19094: address in use")))
        let report = b.check()
        #expect(report.ids == [27])
        #expect(try #require(report.first(27)).message.contains("a node listener could not be opened"))
    }

    @Test func i27CleanWithOtherEvents() {
        let b = CaptureBuilder()
        b.add(.event(EventRecord(time: b.ts(), connectionId: 1, kind: .redaction, message: "redacted")))
        #expect(b.check().isClean)
    }

    // MARK: I28

    @Test func i28SameErrorOverAndOver() throws {
        let b = CaptureBuilder()
        for _ in 0..<25 {
            b.exchange(2, 3, 12, Msg.metadataRequest(["ghost"]), Msg.metadata(topics: [("ghost", 0, 0)], error: 3))
        }
        b.exchange(2, 3, 12, Msg.metadataRequest(["t"]), Msg.metadata(topics: [("t", 1, 1)]))
        let report = b.check()
        #expect(report.ids == [28])
        #expect(report.count(28) == 1)
        let f = try #require(report.first(28))
        #expect(f.message == "Client test-client sent Metadata for topic ghost 25 times in a row, and every answer was the same: UNKNOWN_TOPIC_OR_PARTITION (3) at Topics[ghost].")
        #expect(f.exchanges.count == 2)
        #expect(f.details["count"] == "25")
    }

    @Test func i28EmptyAnswersOverAndOver() throws {
        // The issue's session: Metadata for a topic that never appears.
        let b = CaptureBuilder()
        for _ in 0..<30 { b.exchange(2, 3, 12, Msg.metadataRequest(["ghost"]), Msg.metadata(topics: [])) }
        let report = b.check()
        #expect(report.ids == [26, 28])
        #expect(report.count(26) == 30)
        #expect(try #require(report.first(28)).message.hasSuffix("every answer was the same: an empty answer."))
        #expect(report.text(capturePath: "c").contains("(×30)"))
    }

    @Test func i28CleanWithProgressOrFewRepeats() {
        let b = CaptureBuilder()
        for _ in 0..<19 {
            b.exchange(2, 3, 12, Msg.metadataRequest(["late"]), Msg.metadata(topics: [("late", 0, 0)], error: 5))
        }
        b.exchange(2, 3, 12, Msg.metadataRequest(["late"]), Msg.metadata(topics: [("late", 1, 1)]))
        for _ in 0..<19 {
            b.exchange(2, 3, 12, Msg.metadataRequest(["late"]), Msg.metadata(topics: [("late", 0, 0)], error: 5))
        }
        // Repeated answers without errors (metadata refreshes, empty long polls) are not stuck.
        for _ in 0..<40 { b.fetch(at: 0, hw: 0) }
        #expect(b.check().isClean)
    }

    @Test func i28MemoryStaysBoundedWithManyDistinctFailures() throws {
        let b = CaptureBuilder()
        for _ in 0..<25 {
            b.exchange(2, 3, 12, Msg.metadataRequest(["ghost"]), Msg.metadata(topics: [("ghost", 0, 0)], error: 3))
        }
        for i in 0..<200 {
            b.exchange(2, 3, 12, Msg.metadataRequest(["t\(i)"]), Msg.metadata(topics: [("t\(i)", 0, 0)], error: 3))
            b.exchange(2, 3, 12, Msg.metadataRequest(["t\(i)"]), Msg.metadata(topics: [("t\(i)", 0, 0)], error: 3))
        }
        let engine = CheckEngine(configuration: CheckConfiguration(), invariants: [RepeatedRequestsProgress(maxStreaks: 10)])
        for r in b.records { engine.process(r) }
        let report = engine.finish()
        // The stuck streak is reported when the table is pruned; the short ones are forgotten.
        #expect(report.count(28) == 1)
        #expect(try #require(report.first(28)).details["asked"] == "topic ghost")
    }

    // MARK: I29

    @Test func i29ZstdNeedsProduceV7AndFetchV10() throws {
        let b = CaptureBuilder()
        let zstd = Msg.batch([Rec("k", "v")], base: 0, compression: .zstd)
        b.exchange(1, 0, 6, Msg.produceRequest("t", 0, zstd, acks: -1), Msg.produceResponse("t", 0, base: 0))
        b.exchange(2, 1, 9, Msg.fetchRequest("t", 0, 0), Msg.fetchResponse("t", 0, hw: 1, records: zstd, lso: 1))
        let report = b.check()
        #expect(report.ids == [29])
        let messages = report.findings(InvariantID(29)).map(\.message)
        #expect(messages == [
            "The Produce v6 request carries zstd-compressed records, which need Produce v7+ (KIP-110), for t-0.",
            "The Fetch v9 response carries zstd-compressed records, which need Fetch v10+ (KIP-110), for t-0.",
        ])
    }

    @Test func i29MessageFormatFollowsTheVersion() throws {
        let b = CaptureBuilder()
        let legacy = try KafkaRecords.encodeLegacy([Msg.record(Rec("k", "v"), offset: 0)], magic: 1, compression: .none, baseOffset: 0)
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, legacy, acks: -1), Msg.produceResponse("t", 0, base: 0))
        let report = b.check()
        #expect(report.ids == [29])
        let f = try #require(report.first(29))
        #expect(f.message == "The Produce v9 request carries a message-format v1 record set, which this version does not carry, for t-0.")
        #expect(f.details["magic"] == "1")
    }

    @Test func i29CleanForTheRightFormats() throws {
        let b = CaptureBuilder()
        let zstd = Msg.batch([Rec("k", "v")], base: 0, compression: .zstd)
        b.exchange(1, 0, 9, Msg.produceRequest("t", 0, zstd, acks: -1), Msg.produceResponse("t", 0, base: 0))
        b.fetch(at: 0, hw: 1, records: zstd)
        let legacy = try KafkaRecords.encodeLegacy([Msg.record(Rec("k", "v"), offset: 1)], magic: 1, compression: .gzip, baseOffset: 1)
        b.exchange(1, 0, 2, Msg.produceRequest("t", 0, legacy, acks: -1), Msg.produceResponse("t", 0, base: 1))
        let report = b.check()
        #expect(!report.ids.contains(29), "\(report.text(capturePath: "x"))")
    }

    // MARK: I14 re-encoding

    @Test func i14FrameThatDoesNotEncodeBack() throws {
        // A non-minimal varint (0x80 0x00 for the header's empty tagged-field count) decodes as 0 but
        // encodes as one byte.
        let b = CaptureBuilder()
        let c = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
        var h = ResponseHeader()
        h.correlationId = c
        let normal = KafkaFrameCodec.encodeResponse(header: h, body: Msg.metadata(topics: [("t", 1, 1)]), apiKey: 3, apiVersion: 12)
        var bytes = Array(normal.readableBytesView)
        #expect(bytes[4] == 0)
        bytes.replaceSubrange(4...4, with: [0x80, 0x00])
        b.rawResponse(2, ByteBuffer(bytes: bytes))
        let report = b.check()
        #expect(report.ids == [14])
        let f = try #require(report.first(14))
        #expect(f.message.hasPrefix("The response of Metadata v12 decodes but does not encode back to the same bytes: first difference at offset 4"))
        #expect(f.details["captured"]?.contains("80 00") == true)
    }

    @Test func i14CleanFramesEncodeBack() {
        let b = CaptureBuilder()
        b.produce([Rec("k", "v", headers: [("h", nil)])], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("k", "v", headers: [("h", nil)])], base: 0)
        #expect(b.check().isClean)
    }

    // MARK: ApiVersions fallback (KIP-511) where dump and check decode

    @Test func apiVersionsAnswerToAnUnsupportedVersionDecodesAsV0() throws {
        let b = CaptureBuilder(metadata: false)
        let c = b.request(1, 18, 4, ApiVersionsRequest())
        b.response(1, c, 18, 0, Msg.apiVersions([(18, 0, 3)], error: 35))
        let exchanges = ExchangeTracker.pair(b.records).compactMap { e -> Exchange? in
            if case .exchange(let x) = e { return x } else { return nil }
        }
        let d = DecodedExchange(try #require(exchanges.first))
        #expect(d.responseIsApiVersionsFallback)
        guard case .success(let r)? = d.response else {
            Issue.record("the v0 answer did not decode")
            return
        }
        #expect(r.apiVersion == 0)
        #expect((r.body as? ApiVersionsResponse)?.errorCode == 35)
        #expect(d.errorDescription == nil)
        #expect(d.summaryLine().contains("UNSUPPORTED_VERSION") || d.jsonLine().contains("\"ErrorCode\":35"))
    }

    // MARK: aggregation

    @Test func findingsThatNameTheirExchangeAggregateBySummary() {
        let b = CaptureBuilder()
        for _ in 0..<3 {
            let c1 = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
            let c2 = b.request(2, 3, 12, Msg.metadataRequest(["t"]))
            b.response(2, c2, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
            b.response(2, c1, 3, 12, Msg.metadata(topics: [("t", 1, 1)]))
        }
        let report = b.check()
        #expect(report.count(13) == 3)
        let text = report.text(capturePath: "x")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains("  - A response arrived before the response to an older request on its connection. (×3)"), "\(text)")
        #expect(lines.contains("             The response to Metadata #3 on connection 2 arrived before the response to an older request on that connection."))
        #expect(lines.contains("             The response to Metadata #7 on connection 2 arrived before the response to an older request on that connection."))
        #expect(lines.filter { $0.hasPrefix("  - ") }.count == 1)
    }

    // MARK: I13 in linear time

    @Test func outstandingCorrelationsStayBounded() {
        var s = OutstandingCorrelations()
        let ref = ExchangeReference(connection: 1, correlationId: 0, apiName: "Produce", timeNs: 0)
        for i in 0..<1_000_000 {
            let now = UInt64(i) * 10
            #expect(s.outstanding(Int32(i % 1000), at: now) == nil)
            s.insert(Int32(i % 1000), until: now + 5, by: ref)
        }
        #expect(s.count <= 2)
        // Still outstanding (answered later than the new request): found.
        s.insert(7, until: 20_000_000, by: ref)
        #expect(s.outstanding(7, at: 10_000_005) != nil)
        #expect(s.outstanding(7, at: 20_000_001) == nil)
        // Never answered: kept.
        s.insert(9, until: .max, by: ref)
        #expect(s.outstanding(9, at: .max - 1) != nil)
    }

    @Test func acksZeroRequestsAreNotOutstanding() {
        // Correlation ids of acks=0 Produce requests may be reused at once: no answer is pending.
        let b = CaptureBuilder()
        for i in 0..<2_000 {
            b.request(1, 0, 9, Msg.produceRequest("t", 0, Msg.batch([Rec("k", "v")], base: 0), acks: 0), correlationId: Int32(i % 3))
        }
        let report = b.check()
        #expect(report.isClean, "\(report.text(capturePath: "x"))")
    }
}
