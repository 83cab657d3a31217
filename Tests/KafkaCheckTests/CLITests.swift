import Foundation
import KafkaCapture
import KafkaCheck
import Testing
@testable import KafkaTapeTestSupport

/// `kafkatape check` as a user runs it: the built binary, captures in temp files, exit codes.
@Suite(.enabled(if: Harness.kafkatapeIfBuilt != nil, "build the kafkatape binary first (swift build)"))
struct CLITests {
    func withCapture(_ records: [CaptureRecord], _ body: (String) throws -> Void) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkacheck-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cap.ktape"
        let header = CaptureHeader(
            toolVersion: "test", startTime: CaptureTimestamp(monotonicNs: 1, wallNs: 1), listenAddress: "127.0.0.1:19092",
            upstreamAddress: "broker:9092")
        let writer = try CaptureWriter(path: path, header: header)
        for r in records { try writer.append(r) }
        try writer.close()
        try body(path)
    }

    func clean() -> [CaptureRecord] {
        let b = CaptureBuilder()
        b.produce([Rec("a", "1")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("a", "1")], base: 0)
        return b.records
    }

    func dirty() -> [CaptureRecord] {
        let b = CaptureBuilder()
        b.produce([Rec("a", "1")], base: 0)
        b.fetch(at: 0, hw: 1, batch: [Rec("a", "")], base: 0)
        return b.records
    }

    @Test func stuckRepeatsSetsI28sThreshold() throws {
        let b = CaptureBuilder()
        for _ in 0..<5 {
            b.exchange(2, 3, 12, Msg.metadataRequest(["ghost"]), Msg.metadata(topics: [("ghost", 0, 0)], error: 3))
        }
        try withCapture(b.records) { path in
            #expect(try Harness.run(Harness.kafkatape, ["check", path]).status == 0)
            let r = try Harness.run(Harness.kafkatape, ["check", "--stuck-repeats", "5", path])
            #expect(r.status == 1)
            #expect(r.stdout.contains("I28 clients make progress: 1 finding"), "\(r.stdout)")
            #expect(try Harness.run(Harness.kafkatape, ["check", "--stuck-repeats", "1", path]).status == 2)
        }
    }

    @Test func cleanCaptureExitsZero() throws {
        try withCapture(clean()) { path in
            let r = try Harness.run(Harness.kafkatape, ["check", path])
            #expect(r.status == 0)
            #expect(r.stdout.contains("clean: no findings"))
        }
    }

    @Test func findingsExitOne() throws {
        try withCapture(dirty()) { path in
            let r = try Harness.run(Harness.kafkatape, ["check", path])
            #expect(r.status == 1)
            #expect(r.stdout.contains("I1 fetched records equal what was produced"))
            #expect(r.stdout.contains("I10 null and empty stay distinct"))
            #expect(r.stdout.contains("see: kafkatape dump \(path) --connection 2 --connection 1"))
            let only = try Harness.run(Harness.kafkatape, ["check", path, "--only", "I10"])
            #expect(only.status == 1)
            #expect(!only.stdout.contains("I1 fetched"))
            let skipped = try Harness.run(Harness.kafkatape, ["check", path, "--skip", "I1,I10"])
            #expect(skipped.status == 0)
        }
    }

    @Test func jsonOutput() throws {
        try withCapture(dirty()) { path in
            let r = try Harness.run(Harness.kafkatape, ["check", path, "--json"])
            #expect(r.status == 1)
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
            #expect(object?["clean"] as? Bool == false)
            #expect((object?["findings"] as? [Any])?.count == 2)
        }
    }

    @Test func badInputExitsTwo() throws {
        #expect(try Harness.run(Harness.kafkatape, ["check", "/nonexistent/cap.ktape"]).status == 2)
        #expect(try Harness.run(Harness.kafkatape, ["check"]).status == 2)
        try withCapture(clean()) { path in
            let r = try Harness.run(Harness.kafkatape, ["check", path, "--only", "I99"])
            #expect(r.status == 2)
            #expect(r.stderr.contains("unknown invariant 'I99'"))
            #expect(try Harness.run(Harness.kafkatape, ["check", path, "--fetch-margin-ms", "-1"]).status == 2)
            let notCapture = path + ".txt"
            try Data("hello".utf8).write(to: URL(fileURLWithPath: notCapture))
            let bad = try Harness.run(Harness.kafkatape, ["check", notCapture])
            #expect(bad.status == 2)
            #expect(bad.stderr.contains("not a KafkaTape capture"))
        }
    }

    @Test func helpListsTheCatalogue() throws {
        let r = try Harness.run(Harness.kafkatape, ["check", "--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("I17  broker addresses are rewritten to the proxy"))
        #expect(r.stdout.contains("I16  tagged fields are not sent at their defaults (lint)"))
        #expect(r.stdout.contains("--fetch-margin-ms"))
        #expect(!r.stdout.contains("bench-generate"))
    }

    @Test func benchGeneratorWritesACleanCapture() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkacheck-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gen = try Harness.run(Harness.kafkatape, ["check", "--bench-generate", dir + "/bench.ktape", "--bytes", "500000"])
        #expect(gen.status == 0)
        #expect(try Harness.run(Harness.kafkatape, ["check", dir + "/bench.ktape"]).status == 0)
    }
}
