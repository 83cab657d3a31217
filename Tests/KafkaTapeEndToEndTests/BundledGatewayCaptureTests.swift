import Foundation
import Testing

@testable import KafkaTapeTestSupport

/// The gateway captures in `captures/`, as a user without a gateway meets them: real SeaweedFS bytes,
/// checked by the CLI.
@Suite(.enabled(if: Harness.available, "needs the kafkatape binary"))
struct BundledGatewayCaptureTests {
    static let saramaCapture = Harness.root.appendingPathComponent("captures/seaweedfs-sarama-fetch-v4/session.ktape").path

    /// Every Fetch v4 answer of the sarama session is in v5's layout, and `check` says so for each.
    @Test func checkNamesTheLayoutOfTheGatewaysFetchV4Answers() throws {
        let r = try Harness.run(Harness.kafkatape, ["check", "--json", "--max-findings", "0", Self.saramaCapture], timeout: 60)
        #expect(r.status == 1, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let findings = (obj["findings"] as? [[String: Any]]) ?? []
        let i14 = findings.filter { $0["id"] as? String == "I14" }
        #expect(i14.count == 10)
        for f in i14 {
            let details = f["details"] as? [String: String] ?? [:]
            #expect(details["apiKey"] == "1" && details["apiVersion"] == "4" && details["side"] == "response", "\(details)")
            #expect(details["decodesAs"] == "5,6", "\(details)")
            #expect(details["error"]?.contains("164 bytes left over") == true, "\(details)")
        }
        let text = try Harness.run(Harness.kafkatape, ["check", Self.saramaCapture], timeout: 60)
        #expect(text.stdout.contains("The response of Fetch v4 does not decode (164 bytes left over after the message); it decodes exactly as v5-v6"))
        // dump says it where the exchange is shown.
        let dump = try Harness.run(Harness.kafkatape, ["dump", Self.saramaCapture, "--api", "Fetch"], timeout: 60)
        let lines = dump.stdout.split(separator: "\n")
        #expect(lines.count == 10 && lines.allSatisfy { $0.hasSuffix("164 bytes left over after the message (FetchResponse v4 at offset 54); it decodes exactly as v5-v6") }, "\(lines.prefix(2))")
    }

    /// kafka-go's Produce v2 requests decode exactly, and every one was answered INVALID_REQUEST.
    @Test func checkFlagsTheGatewaysRefusalOfWellFormedProduceV2() throws {
        let capture = Harness.root.appendingPathComponent("captures/seaweedfs-kafka-go-produce-v2/session.ktape").path
        let r = try Harness.run(Harness.kafkatape, ["check", "--json", "--max-findings", "0", capture], timeout: 60)
        #expect(r.status == 1, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let findings = (obj["findings"] as? [[String: Any]]) ?? []
        #expect(findings.count == 10 && findings.allSatisfy { $0["id"] as? String == "I34" }, "\(findings.compactMap { $0["id"] })")
        for f in findings {
            let details = f["details"] as? [String: String] ?? [:]
            #expect(details["apiKey"] == "0" && details["apiVersion"] == "2" && details["recordFormat"] == "1", "\(details)")
        }
        // The requests themselves decode exactly: I14 has nothing to say about them.
        #expect(!findings.contains { $0["id"] as? String == "I14" })
    }
}
