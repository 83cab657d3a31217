import Foundation
import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import KafkaReplay

@Suite struct DiffTests {
    struct Variant {
        var value2 = "v2"
        var produceError: Int16 = 0
        var highWatermark: Int64 = 3
        var skipMetadata = false
        var memberId = "member-a"
        var throttle: Int32 = 0
    }

    /// A producer and a consumer: Metadata, Produce, JoinGroup, Fetch.
    func session(_ v: Variant = Variant()) -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        if !v.skipMetadata {
            var md = Messages.metadataResponse(brokers: [(1, 9092)])
            md.throttleTimeMs = v.throttle
            b.exchange(1, Messages.metadataRequest(["orders"]), md, apiKey: 3, version: 12, correlationId: 2)
        }
        b.exchange(
            1, Messages.produceRequest(Messages.batch(["v0", "v1", "v2"])), Messages.produceResponse(baseOffset: 0, error: v.produceError),
            apiKey: 0, version: 9, correlationId: 3)
        b.open(2, node: 1)
        var join = JoinGroupRequest()
        join.groupId = "g"
        var joined = JoinGroupResponse()
        joined.memberId = v.memberId
        joined.leader = v.memberId
        b.exchange(2, join, joined, apiKey: 11, version: 7, correlationId: 1)
        b.exchange(
            2, Messages.fetchRequest(offset: 0),
            Messages.fetchResponse(records: Messages.batch(["v0", "v1", v.value2]), highWatermark: v.highWatermark, lastStableOffset: 3),
            apiKey: 1, version: 12, correlationId: 2)
        return b.session
    }

    @Test func identicalSessionsAreEquivalent() {
        let report = CaptureDiff().compare(session(), session())
        #expect(report.isEquivalent)
        #expect(report.comparedCount == 5)
        #expect(report.summaryLine.hasPrefix("equivalent: 5 exchanges compared, 0 differ"))
    }

    @Test func noiseIsIgnoredByDefaultAndReportedWhenStrict() {
        let other = session(Variant(memberId: "member-b", throttle: 40))
        #expect(CaptureDiff().compare(session(), other).isEquivalent)
        let strict = CaptureDiff(rules: .standard(strict: true)).compare(session(), other)
        let paths = Set(strict.allDifferences.map { $0.2.path.description })
        #expect(paths == ["ThrottleTimeMs", "MemberId", "Leader"])
    }

    @Test func realChangesAreReportedAtExactlyTheirPaths() {
        let changed = session(Variant(value2: "stale", produceError: 6, highWatermark: 2))
        let report = CaptureDiff().compare(session(), changed)
        #expect(!report.isEquivalent)
        let found = report.allDifferences.map { "\($0.1.rawValue) \($0.2.path)" }
        #expect(
            found == [
                "response Responses[Name=orders].PartitionResponses[Index=0].ErrorCode",
                "response Responses[Topic=orders].Partitions[PartitionIndex=0].HighWatermark",
                "response Responses[Topic=orders].Partitions[PartitionIndex=0].Records[offset=2].value",
            ])
        let value = report.allDifferences.last?.2
        #expect(value?.a == .bytes(ByteBuffer(string: "v2")))
        #expect(value?.b == .bytes(ByteBuffer(string: "stale")))
        let text = report.text()
        #expect(text.contains("response Responses[Topic=orders].Partitions[PartitionIndex=0].HighWatermark: A 3  B 2"))
        #expect(text.contains("Records[offset=2].value: A {\"utf8\":\"v2\"}  B {\"utf8\":\"stale\"}"))
        #expect(text.hasSuffix("NOT equivalent: 5 exchanges compared, 2 differ, 0 only in A, 0 only in B (\(NormalizationRules.defaultNoise.count) noise rule(s))"))
    }

    @Test func aChangedRequestStreamIsReportedAsSuch() {
        let report = CaptureDiff().compare(session(), session(Variant(skipMetadata: true)))
        #expect(!report.isEquivalent)
        #expect(report.onlyInACount == 1)
        #expect(report.differingCount == 0)
        let diverged = report.exchanges.first { $0.status == .onlyInA }
        #expect(diverged?.apiName == "Metadata")
        #expect(diverged?.a?.position == 2)
        #expect(report.text().contains("Metadata v12: request stream diverged: sent only in A"))
    }

    @Test func jsonIsParseableAndComplete() throws {
        let report = CaptureDiff().compare(session(), session(Variant(highWatermark: 9)))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(object["equivalent"] as? Bool == false)
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["differ"] as? Int == 1)
        let rules = try #require(object["rules"] as? [[String: Any]])
        #expect(rules.count == NormalizationRules.defaultNoise.count)
        let connections = try #require(object["connections"] as? [[String: Any]])
        let exchanges = connections.flatMap { ($0["exchanges"] as? [[String: Any]]) ?? [] }
        let differing = try #require(exchanges.first { $0["status"] as? String == "differs" })
        let d = try #require((differing["differences"] as? [[String: Any]])?.first)
        #expect(d["path"] as? String == "Responses[Topic=orders].Partitions[PartitionIndex=0].HighWatermark")
        #expect(d["a"] as? Int == 3)
        #expect(d["b"] as? Int == 9)
    }

    @Test func junitIsWellFormedWithOneCasePerExchange() throws {
        let report = CaptureDiff().compare(session(), session(Variant(value2: "<&\"'>", skipMetadata: true)))
        let xml = report.junitXML()
        let delegate = CountingDelegate()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = delegate
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")\n\(xml)")
        #expect(delegate.testcases == report.exchanges.count)
        #expect(delegate.testcases == 5)
        #expect(delegate.failures == 2)
        #expect(xml.contains("&lt;&amp;\\&quot;&apos;&gt;"))
        #expect(!xml.contains("<&"))
    }

    @Test func userIgnoresApply() throws {
        let changed = session(Variant(highWatermark: 9))
        let rules = NormalizationRules.standard(ignoring: [try FieldPattern("Fetch:**.HighWatermark")])
        #expect(CaptureDiff(rules: rules).compare(session(), changed).isEquivalent)
    }
}

final class CountingDelegate: NSObject, XMLParserDelegate {
    var testcases = 0
    var failures = 0

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        if elementName == "testcase" { testcases += 1 }
        if elementName == "failure" { failures += 1 }
    }
}
