import Foundation
import KafkaCapture
import Testing
@testable import KafkaTapeTestSupport

/// Clean sessions of the three client libraries through the proxy: `check` reports nothing but Tansu's
/// own, documented behaviour (README "Known behaviour of Tansu 0.6.0").
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct CleanSessionCheckTests {
    /// What Tansu 0.6.0 itself does that the invariants flag: ListOffsets LATEST answers the last
    /// batch's base offset + 1 (I6, I7), and it sends tagged fields at their defaults (I16, lint).
    /// The semantic invariants (I22-I33: error answers, answers matching questions, Metadata, stuck
    /// clients, record formats, timestamps, log start, producer ids, group protocols) and I14's
    /// re-encoding find nothing in these sessions, so the set stays as it is.
    static let tansuBehaviour: Set<String> = ["I6", "I7", "I16"]

    @Test(arguments: ["kafka-python", "librdkafka", "aiokafka"])
    func aCleanSessionHasNoFindingsButTansusOwn(library: String) throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("clean.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture)
        let script = Harness.root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/clean_session.py").path
        let r = try Harness.run(Harness.python, [script, library, "127.0.0.1:\(recorder.port)", "clean"], timeout: 90)
        #expect(recorder.stop().status == 0)
        #expect(r.status == 0, "client: \(r.stderr.suffix(500))")
        #expect(r.stdout.contains("\"consumed\": 10"))
        let check = try Harness.run(Harness.kafkatape, ["check", "--json", capture], timeout: 60)
        let obj = try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any]
        let ids = Set(((obj?["findings"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        #expect(ids.isSubset(of: Self.tansuBehaviour), "\(library): unexpected findings \(ids.subtracting(Self.tansuBehaviour))")
    }
}
