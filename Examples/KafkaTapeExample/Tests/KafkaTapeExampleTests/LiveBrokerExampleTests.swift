import Foundation
import KafkaTape
import KafkaTapeTesting
import Testing

/// A Tansu broker from the repository's test kit (tools/setup installs it), for as long as a test
/// needs it: `kafkatape_testkit.py tansu` prints the port and stops when its stdin closes.
final class LiveBroker {
    let process = Process()
    let stdin = Pipe()
    let port: Int

    static var python: String { repository.appendingPathComponent(".venv/bin/python3").path }
    static var available: Bool { FileManager.default.isExecutableFile(atPath: python) }

    init() throws {
        let stdout = Pipe()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = [repository.appendingPathComponent("tools/kafkatape_testkit.py").path, "tansu"]
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = Self.firstLine(stdout.fileHandleForReading)
        guard let port = Int(line.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw KafkaTapeTestingError("tansu did not start: '\(line)'")
        }
        self.port = port
    }

    var bootstrap: String { "127.0.0.1:\(port)" }

    /// The first line a pipe gives, read with `read(2)` so a signal arriving meanwhile (EINTR) is
    /// retried; Foundation's `availableData` treats EINTR as a fatal error.
    static func firstLine(_ handle: FileHandle) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.last != UInt8(ascii: "\n") {
            let n = read(handle.fileDescriptor, &byte, 1)
            if n == 1 { bytes.append(byte) } else if n < 0 && errno == EINTR { continue } else { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

func askForMetadata(_ bootstrap: String) async throws -> [Int32] {
    let client = try await RawKafkaClient.connect(to: bootstrap)
    _ = try await client.send(ApiVersionsRequest(), version: 4)
    var metadata = MetadataRequest()
    metadata.topics = []
    let answer = try await client.send(metadata, version: 12).body as? MetadataResponse
    await client.close()
    return answer?.brokers.map(\.nodeId) ?? []
}

@Suite(.serialized, .enabled(if: LiveBroker.available, "needs tools/setup's venv with Tansu"))
struct LiveBrokerExampleTests {
    @Test func recordThenServe() async throws {
        let broker = try LiveBroker()
        defer { broker.stop() }
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent("example-\(UUID().uuidString).ktape").path
        let live = try await withRecordingProxy(upstream: broker.bootstrap, capture: capture) { try await askForMetadata($0) }
        let served = try await withMockBroker(capture: capture) { try await askForMetadata($0) }
        #expect(!live.isEmpty && served == live)
        #expect(try checkCapture(capture, skip: [InvariantID(16)]).isClean)
    }

    @Test func cassette() async throws {
        let broker = try LiveBroker()
        let cassette = FileManager.default.temporaryDirectory.appendingPathComponent("cassette-\(UUID().uuidString).ktape").path
        let first = try await withKafkaCassette(cassette, upstream: broker.bootstrap, environment: [:]) { bootstrap in
            let nodes = try await askForMetadata(bootstrap)
            #expect(nodes.count == 1)
        }
        broker.stop()
        let second = try await withKafkaCassette(cassette, upstream: broker.bootstrap, environment: [:]) { bootstrap in
            let nodes = try await askForMetadata(bootstrap)
            #expect(nodes.count == 1)
        }
        #expect(first == .recorded && second == .replayed)
    }

    @Test func inMemoryCapture() async throws {
        let broker = try LiveBroker()
        defer { broker.stop() }
        let sink = InMemoryCaptureSink()
        try await withRecordingProxy(upstream: broker.bootstrap, sink: sink) { bootstrap, _ in
            _ = try await askForMetadata(bootstrap)
        }
        #expect(sink.session.exchangeCount == 2)
    }
}
