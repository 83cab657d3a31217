import Foundation
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
// The recordings the end-to-end tests replay are made through the real proxy.
import KafkaProxy
import KafkaReplay
import NIOCore
@testable import KafkaTapeTestSupport

/// The Python clients in `clients/` that the end-to-end tests record; processes, brokers and paths
/// come from KafkaTapeTestSupport's `Harness`.
enum ReplayClients {
    static func path(_ name: String) -> String {
        Harness.root.appendingPathComponent("Tests/KafkaReplayTests/clients/\(name)").path
    }
}

extension TestBroker {
    /// The broker as a replay target.
    var address: HostPort { HostPort(host: "127.0.0.1", port: port) }
}

/// A real client session recorded through an in-process proxy in front of a fresh Tansu.
struct Recording: Sendable {
    var path: String
    /// What the client printed (its observed results, one JSON object).
    var clientOutput: String
    var session: RecordedSession

    static func record(client: String, arguments: [String] = [], in dir: URL, name: String) async throws -> Recording {
        let broker = try TestBroker()
        defer { broker.stop() }
        let path = dir.appendingPathComponent("\(name).ktape").path
        let header = CaptureHeader(
            toolVersion: "kafkatape-tests", startTime: SystemCaptureClock().now(), listenAddress: "127.0.0.1:0",
            upstreamAddress: broker.address.description)
        let sink = try FileCaptureSink(path: path, header: header)
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: broker.address), capture: sink)
        try await proxy.start()
        let out: ProcessOutput
        do {
            out = try await Harness.runAsync(
                Harness.python, [ReplayClients.path(client), "127.0.0.1:\(proxy.bootstrapPort)"] + arguments, timeout: 90)
        } catch {
            await proxy.stop()
            try? sink.close()
            throw error
        }
        await proxy.stop()
        try sink.close()
        guard out.status == 0 else { throw TestFailure("\(client) failed (\(out.status)): \(out.stderr)\n\(out.stdout)") }
        return Recording(path: path, clientOutput: out.stdout, session: try RecordedSession.read(path: path))
    }
}

/// Recordings shared by the end-to-end tests (each is made once).
actor RecordingCache {
    static let shared = RecordingCache()
    let dir = Harness.tempDirectory()
    private var made: [String: Recording] = [:]

    func recording(_ client: String, _ arguments: [String] = ["orders"]) async throws -> Recording {
        let key = ([client] + arguments).joined(separator: " ")
        if let r = made[key] { return r }
        let name = key.replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: ".", with: "_")
        let r = try await Recording.record(client: client, arguments: arguments, in: dir, name: name)
        made[key] = r
        return r
    }
}

/// Captures edited for tests: records are rewritten one by one and written to a new file.
enum CaptureEditor {
    /// Rewrites frames: `transform(exchange-of-the-frame, frame)` returns the new frame, or nil to drop it.
    static func edit(
        _ source: String, to destination: String,
        _ transform: (Exchange, FrameRecord) throws -> FrameRecord?
    ) throws {
        let reader = try CaptureReader(path: source)
        let records = try reader.readAll()
        var byFrame: [FrameRecord: Exchange] = [:]
        for case .exchange(let e) in ExchangeTracker.pair(records) {
            byFrame[e.request] = e
            if let r = e.response { byFrame[r] = e }
        }
        let writer = try CaptureWriter(path: destination, header: reader.header, overwrite: true)
        for record in records {
            if case .frame(let f) = record, let e = byFrame[f] {
                if let replaced = try transform(e, f) { try writer.append(.frame(replaced)) }
            } else {
                try writer.append(record)
            }
        }
        try writer.close()
    }

    /// A response frame with a new body (same header).
    static func replacingResponse(_ frame: FrameRecord, _ e: Exchange, _ change: (inout any KafkaMessage) throws -> Void) throws -> FrameRecord {
        let decoded = try KafkaFrameCodec.decodeResponse(frame.payload, apiKey: e.apiKey, apiVersion: e.apiVersion)
        var body = decoded.body
        try change(&body)
        var copy = frame
        copy.payload = KafkaFrameCodec.encodeResponse(header: decoded.header, body: body, apiKey: e.apiKey, apiVersion: e.apiVersion)
        copy.wireLength = UInt32(copy.payload.readableBytes)
        return copy
    }

    /// Record batches with one record's value replaced (CRC recomputed, as a broker would have written it).
    static func replacingValue(in records: ByteBuffer, offset: Int64, with value: String) throws -> ByteBuffer {
        let set = try KafkaRecords.decode(records)
        var out = ByteBuffer()
        for var batch in set.batches {
            batch.records = batch.records.map { r in
                var copy = r
                if r.offset == offset { copy.value = ByteBuffer(string: value) }
                return copy
            }
            var encoded = try KafkaRecords.encodeBatch(batch, compression: batch.compression)
            out.writeBuffer(&encoded)
        }
        return out
    }
}
