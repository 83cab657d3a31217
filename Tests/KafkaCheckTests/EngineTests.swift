import Foundation
import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore
import Testing

/// The engine, configuration, reports and the benchmark generator.
@Suite struct EngineTests {
    func violating() -> CaptureBuilder {
        let b = CaptureBuilder()
        b.produce([Rec("a", "1"), Rec("b", "2")], base: 0)
        b.fetch(at: 0, hw: 2, batch: [Rec("a", "1"), Rec("b", "X")], base: 0)
        b.listOffsets(-1, answer: 1)
        return b
    }

    @Test func catalogueHasStableIds() {
        #expect(InvariantCatalog.all.map(\.id.number) == Array(1...34))
        #expect(Invariants.all().map(\.id.number) == Array(1...34))
        #expect(InvariantCatalog.all.filter { $0.level == .lint }.map(\.id.number) == [16, 23])
        #expect(InvariantCatalog.helpText().split(separator: "\n").count == 68)
    }

    @Test func selectionParsing() throws {
        #expect(try CheckConfiguration.selection(only: [], skip: []) == Set(InvariantCatalog.ids))
        #expect(try CheckConfiguration.selection(only: ["I1,7", "i9"], skip: ["I7"]) == [InvariantID(1), InvariantID(9)])
        #expect(try CheckConfiguration.selection(only: [], skip: ["16"]).count == 33)
        #expect(throws: CheckInputError.self) { try CheckConfiguration.selection(only: ["I35"], skip: []) }
        #expect(throws: CheckInputError.self) { try CheckConfiguration.selection(only: [], skip: ["bogus"]) }
    }

    @Test func onlyAndSkipSelectInvariants() {
        let b = violating()
        // The Fetch high watermark (2) and ListOffsets LATEST (1) also disagree: I7.
        #expect(b.check().ids == [1, 6, 7])
        #expect(b.check(CheckConfiguration(enabled: [InvariantID(6)])).ids == [6])
        let report = b.check(CheckConfiguration(enabled: Set(InvariantCatalog.ids).subtracting([InvariantID(1)])))
        #expect(report.ids == [6, 7])
        #expect(!report.checked.contains(InvariantID(1)))
    }

    @Test func textReportGroupsByInvariantWithDumpHints() {
        let text = violating().check().text(capturePath: "/tmp/my capture.ktape")
        #expect(text.contains("I1 fetched records equal what was produced: 1 finding"))
        #expect(text.contains(InvariantCatalog.all[0].explanation))
        #expect(text.contains("see: kafkatape dump '/tmp/my capture.ktape' --connection 2 --connection 1"))
        #expect(text.contains("conn 2 #2 Fetch at 2023-11-14T22:13:20."))
        #expect(text.hasSuffix("3 findings (I1×1, I6×1, I7×1) in 6 exchanges over 2 connections (checked I1-I34)"))
    }

    @Test func jsonReport() throws {
        let json = violating().check().json(capturePath: "c.ktape")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["capture"] as? String == "c.ktape")
        #expect(object["clean"] as? Bool == false)
        let summary = try #require(object["summary"] as? [String: Any])
        #expect(summary["findings"] as? Int == 3)
        #expect((summary["byInvariant"] as? [String: Int]) == ["I1": 1, "I6": 1, "I7": 1])
        let findings = try #require(object["findings"] as? [[String: Any]])
        #expect(findings.map { $0["id"] as? String } == ["I1", "I6", "I7"])
        let exchanges = try #require(findings[0]["exchanges"] as? [[String: Any]])
        #expect(exchanges[0]["connection"] as? Int == 2)
        #expect(exchanges[0]["apiName"] as? String == "Fetch")
        #expect(exchanges[0]["timeNs"] as? Int != nil)
        #expect((findings[0]["details"] as? [String: String])?["topic"] == "t")
        #expect(!json.contains("\n"))
    }

    @Test func findingsBeyondTheLimitAreCounted() {
        let b = CaptureBuilder()
        for i in 0..<5 { b.fetch(at: Int64(10 + i), hw: 3) }
        let report = b.check(CheckConfiguration(maxFindingsPerInvariant: 2))
        #expect(report.count(8) == 5)
        #expect(report.findings(InvariantID(8)).count == 2)
        #expect(report.text(capturePath: "x").contains("... and 3 more (--max-findings 0 lists all)"))
        #expect(b.check(CheckConfiguration(maxFindingsPerInvariant: 0)).findings.count == 5)
    }

    @Test func repeatedFindingsAreListedOnceWithTheirCount() {
        let b = CaptureBuilder()
        for _ in 0..<4 { b.fetch(at: 10, hw: 3) }
        b.fetch(at: 20, hw: 3, conn: 3)
        let text = b.check().text(capturePath: "x")
        #expect(b.check().count(8) == 5)
        let lines = text.split(separator: "\n").map(String.init)
        let repeated = lines.filter { $0.hasPrefix("  - ") && $0.hasSuffix("(×4)") }
        #expect(repeated.count == 1, "\(text)")
        let findingLines = lines.prefix { $0 != "notes:" }.filter { $0.hasPrefix("  - ") }
        #expect(findingLines.count == 2, "\(text)")
        #expect(lines.contains { $0.hasPrefix("      first: conn 2 #2 Fetch") })
        #expect(lines.contains { $0.hasPrefix("      last:  conn 2 #5 Fetch") })
        #expect(text.contains("see: kafkatape dump x --connection 3"))
    }

    @Test func readsCapturesThroughTheCaptureFormat() throws {
        let storage = MemoryCaptureStorage()
        let header = CaptureHeader(
            toolVersion: "test", startTime: CaptureTimestamp(monotonicNs: 1, wallNs: 1), listenAddress: "127.0.0.1:19092",
            upstreamAddress: "broker:9092")
        let writer = try CaptureWriter(path: "cap", header: header, storage: storage)
        for r in violating().records { try writer.append(r) }
        try writer.close()
        let report = try CheckEngine.check(reader: CaptureReader(path: "cap", storage: storage))
        #expect(report.ids == [1, 6, 7])
        #expect(report.statistics.records == violating().records.count)
    }

    @Test func syntheticBenchCaptureIsClean() throws {
        let engine = CheckEngine()
        var records = 0
        try SyntheticCapture.generate(bytes: 1 << 20) { record in
            records += 1
            engine.process(record)
        }
        let report = engine.finish()
        #expect(report.isClean, "\(report.text(capturePath: "bench"))")
        #expect(report.statistics.exchanges > 20)
        #expect(report.statistics.frameBytes >= 1 << 20)
    }

    @Test func timeFormatting() {
        #expect(CheckReportTime.format(0) == "1970-01-01T00:00:00.000Z")
        #expect(CheckReportTime.format(1_700_000_000_123_456_789) == "2023-11-14T22:13:20.123Z")
        #expect(CheckReportTime.format(951_782_400_000_000_000) == "2000-02-29T00:00:00.000Z")
    }

    @Test func recordDigestPreviewsStaySmall() {
        for value in ["", "abc", "a longer value than ten bytes", "héllo wörld ünïcode", "\u{1}\u{2}binary"] {
            let d = RecordDigest(KafkaRecord(value: ByteBuffer(string: value)), timestamp: 0)
            #expect(d.valuePreview.utf8.count <= 15, "\(d.valuePreview)")
        }
        #expect(RecordDigest(KafkaRecord(value: nil), timestamp: 0).valuePreview == "null")
        let a = RecordDigest(KafkaRecord(key: nil, value: ByteBuffer()), timestamp: 0)
        let b = RecordDigest(KafkaRecord(key: ByteBuffer(), value: nil), timestamp: 0)
        #expect(a.contentHash != b.contentHash)
    }
}
