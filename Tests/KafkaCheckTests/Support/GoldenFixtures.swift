import Foundation
import KafkaCapture
import KafkaProtocol
import NIOCore

/// The golden sessions of Tests/KafkaProtocolTests/Fixtures (real clients against Tansu 0.6.0,
/// recorded by a relay) turned into capture records.
///
/// The fixtures hold frames only, in the order the relay read them. Each frame gets a time 1 ms
/// after the previous one (the fixtures carry no times, so I21 sees fast answers), and each
/// connection a connection-opened record. The relay played the proxy's part: Tansu was started
/// advertising the relay's address, so clients reached every broker through it. The connections are
/// therefore recorded with role `proxy` and the relay's address (the broker address in the first
/// Metadata answer) as their listener, which is what a KafkaTape capture of the same session looks
/// like after address rewriting.
enum GoldenFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("KafkaProtocolTests/Fixtures")

    struct Frame {
        var connection: UInt64
        var isRequest: Bool
        var payload: ByteBuffer
    }

    static var sessionNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) }.sorted()
    }

    static func frames(_ session: String) throws -> [Frame] {
        let text = try String(contentsOf: directory.appendingPathComponent(session + ".jsonl"), encoding: .utf8)
        var out: [Frame] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let conn = obj["connection"] as? Int, let dir = obj["direction"] as? String,
                let b64 = obj["frame"] as? String, let data = Data(base64Encoded: b64)
            else { throw TestError("bad fixture line in \(session)") }
            out.append(Frame(connection: UInt64(conn), isRequest: dir == "request", payload: ByteBuffer(bytes: data)))
        }
        return out
    }

    static func records(_ session: String, role: String = "proxy") throws -> [CaptureRecord] {
        let frames = try frames(session)
        let listener = relayAddress(frames) ?? "127.0.0.1:9092"
        var out: [CaptureRecord] = []
        var opened: Set<UInt64> = []
        for (i, f) in frames.enumerated() {
            let t = CaptureTimestamp(monotonicNs: 1_000_000_000 + UInt64(i) * 1_000_000, wallNs: 1_700_000_000_000_000_000 + Int64(i) * 1_000_000)
            if opened.insert(f.connection).inserted {
                out.append(
                    .connectionOpened(
                        ConnectionOpenedRecord(
                            time: t, connectionId: f.connection, clientAddress: "127.0.0.1:\(40000 + f.connection)",
                            listenerAddress: listener, upstreamAddress: "tansu:9092", role: role)))
            }
            out.append(.frame(FrameRecord(time: t, connectionId: f.connection, direction: f.isRequest ? .request : .response, payload: f.payload)))
        }
        return out
    }

    /// The broker address the first Metadata answer advertises (the relay's).
    static func relayAddress(_ frames: [Frame]) -> String? {
        for case .exchange(let e) in ExchangeTracker.pair(frames.enumerated().map { i, f in
            CaptureRecord.frame(
                FrameRecord(
                    time: CaptureTimestamp(monotonicNs: UInt64(i), wallNs: Int64(i)), connectionId: f.connection,
                    direction: f.isRequest ? .request : .response, payload: f.payload))
        }) where e.apiKey == 3 {
            guard let r = e.response,
                let d = try? KafkaFrameCodec.decodeResponse(r.payload, apiKey: 3, apiVersion: e.apiVersion),
                let m = d.body as? MetadataResponse, let b = m.brokers.first
            else { continue }
            return "\(b.host):\(b.port)"
        }
        return nil
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}
