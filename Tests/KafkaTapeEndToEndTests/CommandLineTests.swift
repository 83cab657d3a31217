import Foundation
import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing
@testable import KafkaTapeTestSupport

/// The read-side commands on hand-made captures: `apis`, `dump` of undecodable frames.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: Harness.kafkatape), "needs the kafkatape binary"))
struct CommandLineTests {
    @Test func apisListsEveryKeyWithVersionsAsJSON() throws {
        let r = try Harness.run(Harness.kafkatape, ["apis", "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains(#"{"apiKey":0,"name":"Produce","minVersion":0,"maxVersion":13,"firstFlexibleVersion":9}"#))
        let list = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
        #expect(list?.count == KafkaAPIs.all.count)
        let text = try Harness.run(Harness.kafkatape, ["apis"])
        #expect(text.stdout.contains("Fetch"))
    }

    @Test func dumpListsAFrameThatDoesNotDecodeWithItsErrorAndBytes() throws {
        let path = Harness.tempPath("odd.ktape")
        let clock = ManualCaptureClock()
        let header = CaptureHeader(toolVersion: "test", startTime: clock.now(), listenAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2")
        let writer = try CaptureWriter(path: path, header: header)
        // An API key the codec does not know (999), and a Metadata v12 request cut short.
        let unknown = ByteBuffer(bytes: [0x03, 0xE7, 0, 1, 0, 0, 0, 7, 0, 1, 0x61, 0xAB])
        let cut = ByteBuffer(bytes: [0, 3, 0, 12, 0, 0, 0, 8, 0, 1, 0x61, 0, 0x7f])
        try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .request, payload: unknown)))
        clock.advance(by: 1_000_000)
        try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .response, payload: ByteBuffer(bytes: [0, 0, 0, 7, 1, 2]))))
        try writer.append(.frame(FrameRecord(time: clock.now(), connectionId: 1, direction: .request, payload: cut)))
        try writer.close()
        let r = try Harness.run(Harness.kafkatape, ["dump", "--json", path])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["apiKey"] as? Int == 999)
        #expect(first["correlationId"] as? Int == 7)
        #expect((first["error"] as? String)?.contains("unknown API key 999") == true)
        #expect(first["requestHex"] as? String == "03e700010000000700016 1ab".replacingOccurrences(of: " ", with: ""))
        #expect(first["responseHex"] as? String == "000000070102")
        #expect(first["latencyNs"] as? Int == 1_000_000)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect((second["error"] as? String)?.contains("MetadataRequest v12") == true)
        #expect(second["response"] is NSNull)
        let text = try Harness.run(Harness.kafkatape, ["dump", path])
        #expect(text.stdout.contains("!! request: unknown API key 999"))
    }

    /// A non-loopback listen address is warned about before anything is bound. 192.0.2.1 (TEST-NET-1)
    /// is not an address of this machine, so the bind fails at once and nothing listens or connects.
    @Test(arguments: [["record", "--upstream", "127.0.0.1:1", "--no-capture"], ["serve", "CAPTURE"]])
    func nonLoopbackListenWarnsThatCapturesHoldEveryonesData(_ command: [String]) throws {
        let capture = Harness.tempPath("empty.ktape")
        let clock = ManualCaptureClock()
        try CaptureWriter(path: capture, header: CaptureHeader(toolVersion: "test", startTime: clock.now(), listenAddress: "127.0.0.1:1", upstreamAddress: "127.0.0.1:2")).close()
        let args = command.map { $0 == "CAPTURE" ? capture : $0 }
        let remote = try Harness.run(Harness.kafkatape, args + ["--listen", "192.0.2.1:0"])
        #expect(remote.status == 2)
        #expect(remote.stderr.contains("warning: listening on 192.0.2.1:0, not loopback"), "stderr: \(remote.stderr)")
        #expect(remote.stderr.contains("cannot listen on 192.0.2.1:0"))
        // Loopback: no warning (the bind fails on a port that is already taken, so the command still ends).
        let taken = try LoopbackSocket(listening: true)  // binding its port fails
        defer { taken.close() }
        let local = try Harness.run(Harness.kafkatape, args + ["--listen", "127.0.0.1:\(taken.port)"])
        #expect(local.status == 2)
        #expect(!local.stderr.contains("not loopback"), "stderr: \(local.stderr)")
        #expect(local.stderr.contains("cannot listen on 127.0.0.1:\(taken.port)"))
    }
}
