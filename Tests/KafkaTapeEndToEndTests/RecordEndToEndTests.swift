import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// Real clients (kafka-python, librdkafka) and a real broker (Tansu), through `kafkatape record`.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct RecordEndToEndTests {
    struct Session: CustomTestStringConvertible, Sendable {
        var library: String
        var codec: String
        var mode: String
        var idempotent = false
        var testDescription: String { "\(library) \(codec) \(mode)\(idempotent ? " idempotent" : "")" }
        var arguments: [String] { [library, codec, mode] + (idempotent ? ["idempotent"] : []) }
    }

    static let sessions: [Session] = [
        Session(library: "kafka-python", codec: "none", mode: "assign"),
        Session(library: "kafka-python", codec: "gzip", mode: "assign"),
        Session(library: "kafka-python", codec: "snappy", mode: "assign"),
        Session(library: "kafka-python", codec: "lz4", mode: "assign"),
        Session(library: "kafka-python", codec: "zstd", mode: "assign"),
        Session(library: "kafka-python", codec: "none", mode: "group"),
        Session(library: "librdkafka", codec: "none", mode: "assign"),
        Session(library: "librdkafka", codec: "gzip", mode: "assign"),
        Session(library: "librdkafka", codec: "snappy", mode: "assign"),
        Session(library: "librdkafka", codec: "lz4", mode: "assign"),
        Session(library: "librdkafka", codec: "zstd", mode: "assign"),
        Session(library: "librdkafka", codec: "zstd", mode: "group", idempotent: true),
    ]

    /// Runs the client session against `bootstrap` and returns what it consumed (JSON).
    static func runClient(_ s: Session, bootstrap: String, topic: String) throws -> [[Any]] {
        let r = try Harness.run(Harness.python, [Harness.clientScript, s.library, bootstrap, topic] + s.arguments.dropFirst(), timeout: 90)
        guard r.status == 0, let line = r.stdout.split(separator: "\n").last,
            let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let consumed = obj["consumed"] as? [[Any]]
        else { throw TestFailure("client failed (\(r.status)): \(r.stderr.suffix(2000))") }
        return consumed
    }

    static func normalise(_ consumed: [[Any]]) -> String {
        (try? String(data: JSONSerialization.data(withJSONObject: consumed, options: [.sortedKeys]), encoding: .utf8)) ?? ""
    }

    @Test(arguments: sessions)
    func clientsSeeExactlyWhatTheySeeWithoutTheProxy(_ session: Session) throws {
        // Without the proxy.
        let direct = try TestBroker()
        defer { direct.stop() }
        let expected = try Self.runClient(session, bootstrap: "127.0.0.1:\(direct.port)", topic: "e2e")
        direct.stop()
        #expect(expected.count == 20, "the client consumed \(expected.count) of 20 records directly")

        // Through the proxy, against a fresh broker.
        let broker = try TestBroker()
        defer { broker.stop() }
        let capture = Harness.tempPath("session.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture)
        let seen = try Self.runClient(session, bootstrap: "127.0.0.1:\(recorder.port)", topic: "e2e")
        let (status, summary) = recorder.stop()
        #expect(status == 0)
        #expect(summary.contains("connections:"))
        #expect(Self.normalise(seen) == Self.normalise(expected))

        // Every frame landed in the capture and decodes, and every connection the client opened
        // went through a proxy listener.
        let (records, reader) = try Harness.readCapture(capture)
        #expect(reader.tornTail == nil)
        let exchanges = ExchangeTracker.pair(records)
        var decodedRequests = 0
        var decodedResponses = 0
        var producedCodecs: Set<KafkaCompression> = []
        for case .exchange(let e) in exchanges {
            let d = DecodedExchange(e)
            switch d.request {
            case .success(let r):
                decodedRequests += 1
                if let produce = r.body as? ProduceRequest {
                    for t in produce.topicData {
                        for p in t.partitionData {
                            if let b = p.records, let set = try? KafkaRecords.decode(b) {
                                producedCodecs.formUnion(set.batches.map(\.compression))
                            }
                        }
                    }
                }
            case .failure(let error): Issue.record("request does not decode: \(error)")
            }
            if case .failure(let error)? = d.response { Issue.record("response does not decode: \(error)") }
            if case .success? = d.response { decodedResponses += 1 }
        }
        #expect(decodedRequests > 10 && decodedResponses > 10)
        let codec = KafkaCompression.allCases.first { "\($0)" == session.codec }
        #expect(producedCodecs == [codec ?? .none], "produced batches used \(producedCodecs)")
        let opened = records.compactMap { if case .connectionOpened(let o) = $0 { return o } else { return nil } }
        let closed = records.compactMap { if case .connectionClosed(let c) = $0 { return c } else { return nil } }
        #expect(!opened.isEmpty)
        #expect(Set(closed.map(\.connectionId)) == Set(opened.map(\.connectionId)), "every connection is closed in the capture")
        // Tansu advertises itself; the client must only ever have been told about proxy listeners.
        let rewrites = records.compactMap { if case .event(let e) = $0, e.kind == .rewrite { return e } else { return nil } }
        #expect(!rewrites.isEmpty)
        for e in rewrites {
            let payload = try #require(e.payload)
            let apiKey = Int16(e.attributes.first { $0.key == "apiKey" }?.value ?? "") ?? -1
            let version = Int16(e.attributes.first { $0.key == "apiVersion" }?.value ?? "") ?? -1
            let decoded = try KafkaFrameCodec.decodeResponse(payload, apiKey: apiKey, apiVersion: version)
            if let md = decoded.body as? MetadataResponse {
                #expect(md.brokers.allSatisfy { Int($0.port) != broker.port }, "a Metadata answer leaked the upstream address")
            }
        }
        #expect(opened.allSatisfy { !$0.listenerAddress.hasSuffix(":\(broker.port)") })
    }
}

extension KafkaCompression: CaseIterable {
    public static var allCases: [KafkaCompression] { [.none, .gzip, .snappy, .lz4, .zstd] }
}
