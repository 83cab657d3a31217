import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// `record --fault`: each staged gateway bug, with kafka-python against Tansu through the proxy. Each
/// test asserts the symptom the client sees, the fault events in the capture, and what `check` says.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct FaultEndToEndTests {
    static var script: String { Harness.root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/fault_session.py").path }

    struct Run {
        var client: [String: Any]
        var clientStderr: String
        var clientStatus: Int32
        var capture: String
        var records: [CaptureRecord]
        var summary: String

        var faultEvents: [EventRecord] {
            records.compactMap { if case .event(let e) = $0, e.kind == .fault { return e } else { return nil } }
        }

        /// Invariant ids `kafkatape check` reports.
        func checkFindings() throws -> (status: Int32, ids: Set<String>) {
            let r = try Harness.run(Harness.kafkatape, ["check", "--json", capture], timeout: 60)
            guard let obj = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
                let findings = obj["findings"] as? [[String: Any]]
            else { throw TestFailure("check printed no JSON (exit \(r.status)): \(r.stdout.prefix(500)) \(r.stderr.prefix(500))") }
            return (r.status, Set(findings.compactMap { $0["id"] as? String }))
        }
    }

    static func run(fault: [String], mode: String, topic: String = "faulty", seed: Int = 7) throws -> Run {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("fault.ktape")
        let recorder = try Recorder(
            upstream: broker.port, capture: capture, extra: fault.flatMap { ["--fault", $0] } + ["--seed", String(seed)])
        let r = try Harness.run(Harness.python, [script, mode, "127.0.0.1:\(recorder.port)", topic], timeout: 90)
        let (status, summary) = recorder.stop()
        #expect(status == 0)
        let client = r.stdout.split(separator: "\n").last.flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        } ?? [:]
        let (records, _) = try Harness.readCapture(capture)
        return Run(client: client, clientStderr: r.stderr, clientStatus: r.status, capture: capture, records: records, summary: summary)
    }

    @Test func staleFetchHidesNewRecordsAndCheckFlagsIt() throws {
        let run = try Self.run(fault: ["stale-fetch"], mode: "two-rounds")
        // The consumer read the first five records, then kept getting the cached answer for offset 0
        // when it asked for offset 5: it never sees the second round.
        #expect(run.client["offsets"] as? [Int] == [0, 1, 2, 3, 4])
        #expect(run.faultEvents.contains { $0.message.contains("stale-fetch") && $0.message.contains("fetched at 5") })
        #expect(run.summary.contains("faults injected:"))
        let check = try run.checkFindings()
        #expect(check.status == 1)
        #expect(check.ids.contains("I3") || check.ids.contains("I2"), "check found \(check.ids)")
    }

    @Test func swallowedFirstRecordDelaysTheConsumerAndCheckFlagsIt() throws {
        let run = try Self.run(fault: ["swallow-first-record:2500"], mode: "first-record")
        #expect(run.client["offsets"] as? [Int] == [1, 2, 3, 4], "offset 0 never reaches the client")
        let waited = run.client["firstRecordSeconds"] as? Double ?? 0
        #expect(waited >= 2.4, "the response was held: first record after \(waited) s")
        #expect(run.faultEvents.count == 1)
        let check = try run.checkFindings()
        #expect(check.status == 1)
        #expect(check.ids.contains("I3") || check.ids.contains("I1"), "check found \(check.ids)")
        #expect(check.ids.contains("I21"), "the held fetch exceeds max wait: check found \(check.ids)")
    }

    @Test func emptyValuesComeBackEmptyAndCheckFlagsIt() throws {
        let run = try Self.run(fault: ["empty-values:_schemas"], mode: "schemas", topic: "_schemas")
        let values = run.client["values"] as? [String] ?? []
        #expect(values.count == 10)
        #expect(values.allSatisfy { $0.isEmpty }, "values: \(values.prefix(2))")
        let check = try run.checkFindings()
        #expect(check.status == 1)
        #expect(check.ids.contains("I1") || check.ids.contains("I10"), "check found \(check.ids)")
    }

    @Test func delayedFetchIsReportedByI21() throws {
        let run = try Self.run(fault: ["delay:Fetch:2500"], mode: "first-record")
        #expect(run.client["offsets"] as? [Int] == [0, 1, 2, 3, 4])
        #expect((run.client["firstRecordSeconds"] as? Double ?? 0) >= 2.4)
        let check = try run.checkFindings()
        #expect(check.ids.contains("I21"), "check found \(check.ids)")
    }

    @Test func injectedErrorCodeReachesTheClient() throws {
        let run = try Self.run(fault: ["error:CreateTopics:36"], mode: "values")
        #expect(run.clientStatus != 0)
        #expect(run.clientStderr.contains("TopicAlreadyExists"))
        #expect(run.faultEvents.contains { $0.message.contains("TOPIC_ALREADY_EXISTS") })
    }

    @Test func lowerHighWatermarkIsSeenByTheClientAndCheck() throws {
        let run = try Self.run(fault: ["hwm-minus:2"], mode: "highwater")
        #expect(run.client["offsets"] as? [Int] == [0, 1, 2, 3, 4])
        #expect(run.client["highwater"] as? Int == 3, "the broker said 5, the client was told 3")
        let check = try run.checkFindings()
        #expect(check.ids.contains("I6") || check.ids.contains("I5"), "check found \(check.ids)")
    }

    @Test func reorderedResponsesBreakTheClientAndCheckFlagsI13() throws {
        let run = try Self.run(fault: ["reorder-responses"], mode: "pipelined")
        #expect(run.faultEvents.contains { $0.message.contains("reorder-responses") })
        #expect((run.client["errors"] as? Int ?? 0) > 0 || run.clientStatus != 0, "the producer noticed: \(run.clientStderr.suffix(300))")
        let check = try run.checkFindings()
        #expect(check.ids.contains("I13"), "check found \(check.ids)")
    }

    @Test func duplicateCorrelationIdIsFlaggedByI13() throws {
        let run = try Self.run(fault: ["duplicate-correlation-id"], mode: "values")
        #expect(run.faultEvents.contains { $0.message.contains("duplicate-correlation-id") })
        let check = try run.checkFindings()
        #expect(check.ids.contains("I13"), "check found \(check.ids)")
    }

    @Test func noRewriteLetsTheClientEscapeAndCheckFlagsI17() throws {
        let run = try Self.run(fault: ["no-rewrite"], mode: "values")
        #expect(run.client["values"] as? [String] == (0..<5).map { "value-\($0)" })
        // The client followed Tansu's own address: it never came back through a node listener.
        let opened = run.records.compactMap { if case .connectionOpened(let o) = $0 { return o } else { return nil } }
        #expect(opened.allSatisfy { $0.nodeId < 0 })
        #expect(!run.records.contains { if case .event(let e) = $0 { return e.kind == .rewrite } else { return false } })
        let check = try run.checkFindings()
        #expect(check.ids.contains("I17"), "check found \(check.ids)")
    }

    @Test func droppedConnectionsStarveTheConsumer() throws {
        let run = try Self.run(fault: ["drop-connection:Fetch:1"], mode: "values")
        #expect((run.client["values"] as? [String] ?? []).isEmpty)
        let closes = run.records.compactMap { if case .connectionClosed(let c) = $0 { return c } else { return nil } }
        #expect(closes.contains { $0.closedBy == .proxy && $0.reason.contains("drop-connection") })
        let check = try run.checkFindings()
        #expect(check.ids.contains("I13"), "unanswered fetches: check found \(check.ids)")
    }
}
