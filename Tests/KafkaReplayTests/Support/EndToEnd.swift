import Foundation
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
// The recordings the end-to-end tests replay are made through the real proxy.
import KafkaProxy
import KafkaReplay
import NIOCore

/// Processes for the end-to-end tests: Tansu (tools/kafkatape_testkit.py), the kafkatape binary and
/// the Python clients in `clients/`. Everything on 127.0.0.1; every process is stopped.
enum EndToEnd {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var python: String {
        if let p = ProcessInfo.processInfo.environment["KAFKATAPE_PYTHON"], FileManager.default.isExecutableFile(atPath: p) { return p }
        return root.appendingPathComponent(".venv/bin/python3").path
    }

    static var kafkatape: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kafkatape").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return root.appendingPathComponent(".build/debug/kafkatape").path
    }

    static func client(_ name: String) -> String {
        root.appendingPathComponent("Tests/KafkaReplayTests/clients/\(name)").path
    }

    static var testkit: String { root.appendingPathComponent("tools/kafkatape_testkit.py").path }

    /// Python with the clients and a Tansu binary: the end-to-end tests run only then.
    static let available: Bool = {
        guard FileManager.default.isExecutableFile(atPath: python) else { return false }
        return (try? runSync(python, [testkit, "find-tansu"], timeout: 20))?.status == 0
    }()

    static var cliAvailable: Bool { FileManager.default.isExecutableFile(atPath: kafkatape) }

    static func tempDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-replay-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a command to completion on a background thread.
    static func run(_ executable: String, _ args: [String], timeout: TimeInterval = 120) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    continuation.resume(returning: try runSync(executable, args, timeout: timeout))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    static func runSync(_ executable: String, _ args: [String], timeout: TimeInterval) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let collected = Collected()
        let group = DispatchGroup()
        for (handle, isOut) in [(out.fileHandleForReading, true), (err.fileHandleForReading, false)] {
            group.enter()
            DispatchQueue.global().async {
                let data = handle.readDataToEndOfFile()
                collected.set(data, stdout: isOut)
                group.leave()
            }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            group.wait()
            throw TestError("\(executable) \(args.joined(separator: " ")) timed out after \(timeout)s: \(collected.stderr)")
        }
        p.waitUntilExit()
        group.wait()
        return Output(status: p.terminationStatus, stdout: collected.stdout, stderr: collected.stderr)
    }

    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var out = Data()
        private var err = Data()
        func set(_ d: Data, stdout: Bool) {
            lock.lock()
            if stdout { out = d } else { err = d }
            lock.unlock()
        }
        var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
        var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
    }
}

/// A Tansu broker for one test: started through the testkit with a stdin pipe kept open; closing
/// it stops the broker.
final class TansuBroker: @unchecked Sendable {
    let process = Process()
    let stdin = Pipe()
    let port: Int

    init() throws {
        process.executableURL = URL(fileURLWithPath: EndToEnd.python)
        process.arguments = [EndToEnd.testkit, "tansu"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = stdin
        try process.run()
        var line = Data()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
            if line.contains(UInt8(ascii: "\n")) { break }
        }
        guard let text = String(data: line, encoding: .utf8), let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestError("Tansu did not start")
        }
        port = p
    }

    var address: HostPort { HostPort(host: "127.0.0.1", port: port) }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            try? stdin.fileHandleForWriting.close()
            process.waitUntilExit()
        }
    }
}

/// A real client session recorded through an in-process proxy in front of a fresh Tansu.
struct Recording: Sendable {
    var path: String
    /// What the client printed (its observed results, one JSON object).
    var clientOutput: String
    var session: RecordedSession

    static func record(client: String, arguments: [String] = [], in dir: URL, name: String) async throws -> Recording {
        let broker = try TansuBroker()
        defer { broker.stop() }
        let path = dir.appendingPathComponent("\(name).ktape").path
        let header = CaptureHeader(
            toolVersion: "kafkatape-tests", startTime: SystemCaptureClock().now(), listenAddress: "127.0.0.1:0",
            upstreamAddress: broker.address.description)
        let sink = try FileCaptureSink(path: path, header: header)
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: broker.address), capture: sink)
        try await proxy.start()
        let out: EndToEnd.Output
        do {
            out = try await EndToEnd.run(
                EndToEnd.python, [EndToEnd.client(client), "127.0.0.1:\(proxy.bootstrapPort)"] + arguments, timeout: 90)
        } catch {
            await proxy.stop()
            try? sink.close()
            throw error
        }
        await proxy.stop()
        try sink.close()
        guard out.status == 0 else { throw TestError("\(client) failed (\(out.status)): \(out.stderr)\n\(out.stdout)") }
        return Recording(path: path, clientOutput: out.stdout, session: try RecordedSession.read(path: path))
    }
}

/// Recordings shared by the end-to-end tests (each is made once).
actor RecordingCache {
    static let shared = RecordingCache()
    let dir = EndToEnd.tempDirectory()
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
