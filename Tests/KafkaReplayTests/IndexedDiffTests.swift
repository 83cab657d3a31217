import Foundation
import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaReplay

/// `diff` on files reads each capture once into an index and the frames back pair by pair
/// (`IndexedCapture`); it must say exactly what the comparison of the whole captures in memory says.
@Suite struct IndexedDiffTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-indexed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func write(_ records: [CaptureRecord], to path: String, rotateBytes: Int? = nil) throws {
        let header = CaptureHeader(
            toolVersion: "test", startTime: CaptureTimestamp(monotonicNs: 0, wallNs: 1_700_000_000_000_000_000),
            listenAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2")
        let writer = try CaptureWriter(path: path, header: header, rotateBytes: rotateBytes, overwrite: true)
        for r in records { try writer.append(r) }
        try writer.close()
    }

    func inMemory(_ a: String, _ b: String, rules: NormalizationRules = .standard()) throws -> DiffReport {
        CaptureDiff(rules: rules).compare(try RecordedSession.read(path: a), try RecordedSession.read(path: b), pathA: a, pathB: b)
    }

    func indexed(_ a: String, _ b: String, rules: NormalizationRules = .standard()) throws -> DiffReport {
        try CaptureDiff(rules: rules).compare(try IndexedCapture(path: a), try IndexedCapture(path: b))
    }

    /// The text report as `diff` prints it without --json/--junit/--html: written event by event,
    /// nothing kept.
    func streamed(_ a: String, _ b: String, rules: NormalizationRules = .standard(), verbose: Bool) throws -> (String, DiffReport.Counts) {
        let ca = try IndexedCapture(path: a)
        let cb = try IndexedCapture(path: b)
        var lines = ca.warnings.map { "warning: A: \($0)" } + cb.warnings.map { "warning: B: \($0)" }
        var writer = DiffReport.TextWriter(verbose: verbose)
        let counts = try CaptureDiff(rules: rules).compare(ca, cb) { lines += writer.lines(for: $0) }
        lines.append(DiffReport.summaryLine(counts, rules: rules))
        return (lines.joined(separator: "\n"), counts)
    }

    @Test func sameReportAsInMemoryOnTheBundledCaptures() throws {
        let dir = Self.root.appendingPathComponent("captures").path
        let captures = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
            .map { "\(dir)/\($0)/session.ktape" }
            .filter { FileManager.default.fileExists(atPath: $0) }
        #expect(captures.count >= 6)
        func size(_ path: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0 }
        // Every pair of the small ones (different sessions: they differ everywhere), each large one
        // (thousands of fetches) against itself.
        let small = captures.filter { size($0) < 100_000 }
        var pairs: [(String, String)] = []
        for a in small { for b in small { pairs.append((a, b)) } }
        for a in captures where size(a) >= 100_000 { pairs.append((a, a)) }
        var differing = 0
        for (a, b) in pairs {
            for rules in [NormalizationRules.standard(), .standard(strict: true)] {
                let expected = try inMemory(a, b, rules: rules)
                let got = try indexed(a, b, rules: rules)
                #expect(got.json() == expected.json(), "\(a) vs \(b)")
                #expect(got.text(verbose: true) == expected.text(verbose: true), "\(a) vs \(b)")
                for verbose in [false, true] {
                    let (text, counts) = try streamed(a, b, rules: rules, verbose: verbose)
                    #expect(text == expected.text(verbose: verbose), "\(a) vs \(b)")
                    #expect(counts.isEquivalent == expected.isEquivalent)
                    #expect(counts.compared == expected.comparedCount && counts.differing == expected.differingCount)
                }
                if !expected.isEquivalent { differing += 1 }
            }
        }
        // The pairs of different sessions differ, so the comparison above covered differences too.
        #expect(differing >= 2 * small.count * (small.count - 1))
    }

    /// A session with what the index must carry besides frames: an unanswered request at a close, an
    /// acks=0 Produce, an unmatched response, a connection with no requests, and several segments.
    func awkwardSession(value: String) -> [CaptureRecord] {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        var fireAndForget = Messages.produceRequest(Messages.batch(["x"]))
        fireAndForget.acks = 0
        b.request(1, fireAndForget, apiKey: 0, version: 9, correlationId: 3)
        b.response(1, Messages.produceResponse(baseOffset: 0), apiKey: 0, version: 9, correlationId: 99)
        b.open(2, node: 1)
        b.exchange(
            2, Messages.fetchRequest(offset: 0),
            Messages.fetchResponse(records: Messages.batch(["a", value]), highWatermark: 2, lastStableOffset: 2),
            apiKey: 1, version: 12, correlationId: 1)
        b.request(2, Messages.fetchRequest(offset: 2), apiKey: 1, version: 12, correlationId: 2)
        b.close(2)
        b.open(3, node: 1)
        return b.records
    }

    @Test func sameReportAsInMemoryAcrossSegmentsAndMissingResponses() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.ktape"
        let b = dir + "/b.ktape"
        try write(awkwardSession(value: "b"), to: a, rotateBytes: 300)
        try write(awkwardSession(value: "B"), to: b)
        #expect(FileManager.default.fileExists(atPath: a + ".1"))
        let index = try CaptureExchangeIndex.build(path: a)
        #expect(index.segmentPaths.count > 1)
        let entries = index.connections.flatMap(\.entries)
        #expect(entries.contains { $0.missingResponse == .notExpected })
        #expect(entries.contains { $0.missingResponse == .connectionClosed })
        #expect(index.connections.contains { $0.entries.isEmpty })
        #expect(index.warnings.contains { $0.contains("matches no request") })
        for (x, y) in [(a, b), (b, a), (a, a)] {
            let expected = try inMemory(x, y)
            let got = try indexed(x, y)
            #expect(got.json() == expected.json())
            #expect(got.text(verbose: true) == expected.text(verbose: true))
            for verbose in [false, true] {
                #expect(try streamed(x, y, verbose: verbose).0 == expected.text(verbose: verbose))
            }
        }
        #expect(try !indexed(a, b).isEquivalent)
        #expect(try streamed(a, b, verbose: false).1.unpairedConnections == 0)
    }

    @Test func aCaptureThatChangesAfterIndexingIsAnErrorNotAWrongAnswer() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.ktape"
        try write(awkwardSession(value: "b"), to: a)
        let capture = try IndexedCapture(path: a)
        // Overwrite every byte after the file header: each indexed record is gone.
        let handle = try #require(FileHandle(forUpdatingAtPath: a))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data(repeating: 0xEE, count: Int(size - size / 2)))
        try handle.close()
        #expect(throws: CaptureError.self) { try CaptureDiff().compare(capture, capture) }
    }

    @Test func fetcherReadsRecordsBackByPosition() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/a.ktape"
        let records = awkwardSession(value: "b")
        try write(records, to: path, rotateBytes: 400)
        let reader = try CaptureReader(path: path)
        var positions: [(CapturePosition, CaptureRecord)] = []
        while let r = try reader.next() { positions.append((try #require(reader.lastRecordPosition), r)) }
        #expect(positions.count == records.count)
        // A small window, read backwards: every read refills it.
        let fetcher = CaptureRecordFetcher(
            segmentPaths: reader.segmentPaths, firstSegmentIndex: reader.header.segmentIndex, windowSize: 1)
        for (position, record) in positions.reversed() {
            #expect(try fetcher.record(at: position) == record)
        }
        #expect(throws: CaptureError.self) {
            try fetcher.record(at: CapturePosition(segmentIndex: 0, offset: positions[1].0.offset + 1))
        }
    }
}
