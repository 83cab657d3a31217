import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// The user's story for each gateway bug KafkaTape exists for: capture it, see it in `check`, replay
/// the captured client against a fixed gateway, and prove the fix with `diff` (and a clean `check`).
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct BugStoryEndToEndTests {
    struct Story: CustomTestStringConvertible, Sendable {
        var fault: String
        var mode: String
        var topic: String
        var invariants: Set<String>
        var changedPath: String
        var testDescription: String { fault }
    }

    static let stories: [Story] = [
        Story(fault: "stale-fetch", mode: "schemas", topic: "_schemas", invariants: ["I3"], changedPath: "Records[offset=5]"),
        Story(fault: "empty-values:_schemas", mode: "schemas", topic: "_schemas", invariants: ["I1", "I10"], changedPath: ".value"),
        Story(fault: "swallow-first-record:2000", mode: "first-record", topic: "stream", invariants: ["I3", "I21"], changedPath: "Records[offset=0]"),
    ]

    @Test(arguments: stories)
    func captureCheckReplayAndDiffProveTheFix(_ story: Story) throws {
        // 1. The buggy gateway (a healthy broker behind a proxy staging the bug), captured.
        let buggy = try FaultEndToEndTests.run(fault: [story.fault], mode: story.mode, topic: story.topic)
        let before = try buggy.checkFindings()
        #expect(before.status == 1)
        #expect(story.invariants.isSubset(of: before.ids), "check on the buggy capture found \(before.ids)")

        // 2. The fixed gateway: replay the captured client against a clean broker.
        let fixed = try TestBroker()
        defer { fixed.stop() }
        let (replayed, diff) = try Harness.replayAndDiff(buggy.capture, targetPort: fixed.port)

        // 3. diff shows what changed, at the fields the bug touched.
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("Fetch v"))
        #expect(diff.stdout.contains(story.changedPath), "diff output: \(diff.stdout.prefix(1500))")

        // 4. check on the fixed run: the bug's invariants are gone.
        let ids = Set(try Harness.checkCounts(replayed, skip: ["I16"]).counts.keys)
        #expect(ids.isDisjoint(with: story.invariants), "check on the fixed run still found \(ids)")
    }
}
