import Foundation
import NIOCore

/// One frame of a golden fixture recorded from a real client and broker (see Fixtures/README.md).
struct FixtureFrame {
    var connection: Int
    var isRequest: Bool
    var payload: ByteBuffer
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var sessionNames: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") }.map { String($0.dropLast(6)) }.sorted()
    }

    static func frames(_ session: String) throws -> [FixtureFrame] {
        let text = try String(contentsOf: directory.appendingPathComponent(session + ".jsonl"), encoding: .utf8)
        var out: [FixtureFrame] = []
        for line in text.split(separator: "\n") where !line.isEmpty {
            guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let conn = obj["connection"] as? Int, let dir = obj["direction"] as? String,
                let b64 = obj["frame"] as? String, let data = Data(base64Encoded: b64)
            else { throw FixtureError("bad fixture line in \(session)") }
            out.append(FixtureFrame(connection: conn, isRequest: dir == "request", payload: ByteBuffer(bytes: data)))
        }
        return out
    }

    /// Requests paired with responses by connection and correlation id.
    static func exchanges(_ session: String) throws -> [(request: FixtureFrame, response: FixtureFrame?)] {
        let frames = try frames(session)
        var result: [(request: FixtureFrame, response: FixtureFrame?)] = []
        var outstanding: [Int: [(Int32, Int)]] = [:]
        for f in frames {
            if f.isRequest {
                let corr = f.payload.getInteger(at: f.payload.readerIndex + 4, as: Int32.self) ?? -1
                outstanding[f.connection, default: []].append((corr, result.count))
                result.append((f, nil))
            } else {
                let corr = f.payload.getInteger(at: f.payload.readerIndex, as: Int32.self) ?? -1
                if let i = outstanding[f.connection]?.firstIndex(where: { $0.0 == corr }),
                    let entry = outstanding[f.connection]?.remove(at: i)
                {
                    result[entry.1].response = f
                }
            }
        }
        return result
    }

    static func expected(_ session: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: directory.appendingPathComponent(session + ".expected.json"))
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}
