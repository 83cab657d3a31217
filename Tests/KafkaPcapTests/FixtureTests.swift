import Foundation
import KafkaCapture
import KafkaPcap
import Testing
@testable import KafkaTapeTestSupport

/// The committed tcpdump/dumpcap captures of real client sessions against Tansu on
/// 127.0.0.1:39092 (recorded by Fixtures/record-fixtures.sh): Ethernet from `lo`, pcapng, and Linux
/// cooked v1 and v2 from `any`.
@Suite struct FixtureTests {
    static let brokerPort = 39092

    struct Fixture: CustomTestStringConvertible, Sendable {
        var file: String
        var linkType: PcapLinkType
        var gaps: Int
        var testDescription: String { file }
    }

    static let fixtures = [
        Fixture(file: "kafka-python-lo.pcap", linkType: .ethernet, gaps: 0),
        Fixture(file: "librdkafka-lo.pcapng", linkType: .ethernet, gaps: 0),
        Fixture(file: "kafka-python-any-sll.pcap", linkType: .linuxSLL, gaps: 0),
        // tcpdump on `any` missed one client packet (an ApiVersions request): a real gap.
        Fixture(file: "both-any-sll2.pcap", linkType: .linuxSLL2, gaps: 1),
    ]

    /// Our import finds the same requests as tshark, connection by connection; and with no port
    /// given, the broker port is detected.
    @Test(.enabled(if: Repo.tshark != nil, "needs tshark"), arguments: fixtures)
    func importMatchesTshark(fixture: Fixture) async throws {
        let path = "\(Repo.fixtures)/\(fixture.file)"
        try await withTemporaryDirectory { dir in
            let out = "\(dir)/f.ktape"
            let report = try PcapImport.run(input: path, output: out)
            #expect(report.linkType == fixture.linkType)
            #expect(report.statistics.detectedBrokerPorts == [UInt16(Self.brokerPort)])
            #expect(report.statistics.gaps == fixture.gaps)
            #expect(report.damage == nil)
            let records = try readCapture(out)
            let ours = captureRequests(records)
            let theirs = try await tsharkRequests(path, ports: [Self.brokerPort])
            #expect(!ours.isEmpty)
            #expect(ours == theirs)
            // Every request that has a response in the capture pairs with it.
            let unmatched = ExchangeTracker.pair(records).filter { if case .unmatchedResponse = $0 { return true } else { return false } }
            #expect(unmatched.count == fixture.gaps, "responses to lost requests only")
        }
    }

    @Test func theRealGapIsRecordedWhereTheCaptureLostThePacket() throws {
        try withTemporaryDirectory { dir in
            let out = "\(dir)/f.ktape"
            _ = try PcapImport.run(input: "\(Repo.fixtures)/both-any-sll2.pcap", output: out, options: .init(brokerPorts: [39092]))
            let gaps = events(try readCapture(out), kind: .gap)
            #expect(gaps.count == 1)
            #expect(gaps.first?[attribute: "direction"] == "request")
            #expect(gaps.first?[attribute: "offset"] == "0")
            #expect(gaps.first?[attribute: "reason"] == TcpGapReason.acknowledgedNotCaptured.rawValue)
        }
    }
}
