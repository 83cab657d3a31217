import Foundation
import KafkaTape
import KafkaTapeTesting
import NIOCore
import ServiceLifecycle
import Testing

@testable import KafkaTapeTestSupport

/// The testing helpers as a user's test uses them: a mock broker from a bundled capture, a recording
/// proxy in front of a live Tansu broker, cassettes, in-memory captures, checks, and the servers as
/// swift-service-lifecycle services.
@Suite(.serialized) struct KafkaTapeTestingTests {
    static var cleanCapture: String { Harness.root.appendingPathComponent("captures/schema-registry-clean/session.ktape").path }

    /// The first two requests kafka-python sent in the clean session: ApiVersions v4, then Metadata v12
    /// for every topic.
    static func askMetadata(_ client: RawKafkaClient) async throws -> MetadataResponse? {
        _ = try await client.send(ApiVersionsRequest(), version: 4)
        var metadata = MetadataRequest()
        metadata.topics = []
        metadata.allowAutoTopicCreation = true
        return try await client.send(metadata, version: 12).body as? MetadataResponse
    }

    @Test func aMockBrokerServesABundledCaptureToARawClient() async throws {
        let brokers = try await withMockBroker(capture: Self.cleanCapture) { bootstrap in
            let client = try await RawKafkaClient.connect(to: bootstrap)
            let response = try await Self.askMetadata(client)
            await client.close()
            return response?.brokers ?? []
        }
        // The recorded broker, at the mock broker's own node listener.
        #expect(brokers.map(\.nodeId) == [111])
        #expect(brokers.first?.host == "127.0.0.1")
        #expect(brokers.first?.port != 51291, "the address points at the mock broker, not the recorded one")
    }

    @Test func aRequestTheRecordingLacksFailsTheTest() async throws {
        await #expect(throws: MockBrokerMisses.self) {
            try await withMockBroker(capture: Self.cleanCapture) { bootstrap in
                let client = try await RawKafkaClient.connect(to: bootstrap)
                var metadata = MetadataRequest()
                var topic = MetadataRequest.MetadataRequestTopic()
                topic.name = "never-recorded"
                metadata.topics = [topic]
                _ = try await client.send(metadata, version: 12)
                await client.close()
            }
        }
        let report = try await withMockBrokerServer(capture: Self.cleanCapture) { server in
            let client = try await RawKafkaClient.connect(to: server.bootstrapAddress)
            _ = try await Self.askMetadata(client)
            await client.close()
            return server.report
        }
        #expect(report.answered == 2 && report.misses.isEmpty)
    }

    @Test(.enabled(if: Harness.available)) func aRecordingProxyWritesACaptureThatChecksAndServes() async throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let path = Harness.tempPath("recorded.ktape")
        let live = try await withRecordingProxy(upstream: "127.0.0.1:\(broker.port)", capture: path) { bootstrap in
            let client = try await RawKafkaClient.connect(to: bootstrap)
            let r = try await Self.askMetadata(client)
            await client.close()
            return r
        }
        #expect(live?.brokers.count == 1)
        let session = try RecordedSession.read(path: path)
        #expect(session.exchangeCount == 2)
        let report = try checkCapture(path, skip: [InvariantID(16)])
        #expect(report.isClean, "\(report.text(capturePath: path))")
        // The capture serves the same client again.
        let served = try await withMockBroker(capture: path) { bootstrap in
            let client = try await RawKafkaClient.connect(to: bootstrap)
            let r = try await Self.askMetadata(client)
            await client.close()
            return r
        }
        #expect(served?.brokers.map(\.nodeId) == live?.brokers.map(\.nodeId))
    }

    @Test(.enabled(if: Harness.available)) func anInMemorySinkHoldsTheSessionWithoutAFile() async throws {
        let broker = try TestBroker()
        defer { broker.stop() }
        let sink = InMemoryCaptureSink()
        try await withRecordingProxy(upstream: "127.0.0.1:\(broker.port)", sink: sink) { bootstrap, proxy in
            let client = try await RawKafkaClient.connect(to: bootstrap)
            _ = try await Self.askMetadata(client)
            await client.close()
            #expect(proxy.statistics.snapshot.requestsByApi[3] == 1)
        }
        #expect(sink.session.exchangeCount == 2)
        #expect(sink.bytesWritten > 0)
        #expect(checkRecords(sink.records, skip: [InvariantID(16)]).isClean)
        let path = Harness.tempPath("from-memory.ktape")
        try sink.write(to: path)
        #expect(try RecordedSession.read(path: path).exchangeCount == 2)
    }

    @Test(.enabled(if: Harness.available)) func aCassetteRecordsOnceThenReplays() async throws {
        let broker = try TestBroker()
        let path = Harness.tempPath("cassettes/metadata.ktape")
        func session(_ bootstrap: String) async throws {
            let client = try await RawKafkaClient.connect(to: bootstrap)
            let r = try await Self.askMetadata(client)
            await client.close()
            #expect(r?.brokers.count == 1)
        }
        let first = try await withKafkaCassette(path, upstream: "127.0.0.1:\(broker.port)", environment: [:], session)
        #expect(first == .recorded)
        broker.stop()
        // The broker is gone: only the cassette can answer now.
        let second = try await withKafkaCassette(path, upstream: "127.0.0.1:\(broker.port)", environment: [:], session)
        #expect(second == .replayed)
        // KAFKATAPE_MODE overrides; replay of a missing cassette is an error, not a recording.
        await #expect(throws: KafkaTapeTestingError.self) {
            try await withKafkaCassette(Harness.tempPath("none.ktape"), upstream: "127.0.0.1:1", environment: ["KAFKATAPE_MODE": "replay"], session)
        }
        await #expect(throws: KafkaTapeTestingError.self) {
            try await withKafkaCassette(path, upstream: "127.0.0.1:1", environment: ["KAFKATAPE_MODE": "sometimes"], session)
        }
        let fresh = try TestBroker()
        defer { fresh.stop() }
        let again = try await withKafkaCassette(path, upstream: "127.0.0.1:\(fresh.port)", environment: ["KAFKATAPE_MODE": "record"], session)
        #expect(again == .recorded)
    }

    @Test func serversAreServicesThatStopOnGracefulShutdown() async throws {
        let server = CaptureServer(
            session: try RecordedSession.read(path: Self.cleanCapture),
            configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), latency: .none))
        let group = ServiceGroup(services: [server], logger: .init(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var waited = 0
            while server.bootstrapPort == 0 && waited < 500 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(server.bootstrapPort != 0, "the service never started listening")
            let client = try await RawKafkaClient.connect(to: server.bootstrapAddress)
            _ = try await Self.askMetadata(client)
            await client.close()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(server.report.answered == 2)
    }
}

/// A client that computes its timeouts from deadlines (as kafka-go sets Produce TimeoutMs and Fetch
/// MaxWaitMs from a deadline minus the time elapsed) sends different values every run: served from a
/// capture recorded over real sockets, it gets no miss; with --strict matching it would.
@Suite(.serialized, .enabled(if: Harness.available)) struct ClientClockTests {
    static func session(_ client: RawKafkaClient, timeoutMs: Int32, maxWaitMs: Int32) async throws -> Int {
        var produce = ProduceRequest()
        produce.acks = -1
        produce.timeoutMs = timeoutMs
        var topic = ProduceRequest.TopicProduceData()
        topic.name = "clocks"
        var partition = ProduceRequest.PartitionProduceData()
        partition.index = 0
        let record = KafkaRecord(offset: 0, timestamp: 1_700_000_000_000, key: nil, value: ByteBuffer(string: "v"), headers: [])
        partition.records = try KafkaRecords.encodeBatch(KafkaRecordBatch(baseOffset: 0, records: [record]), compression: .none)
        topic.partitionData = [partition]
        produce.topicData = [topic]
        _ = try await client.send(produce, version: 9)
        var fetch = FetchRequest()
        fetch.maxWaitMs = maxWaitMs
        fetch.minBytes = 1
        fetch.maxBytes = 1 << 20
        var ft = FetchRequest.FetchTopic()
        ft.topic = "clocks"
        var fp = FetchRequest.FetchPartition()
        fp.partition = 0
        fp.fetchOffset = 0
        fp.partitionMaxBytes = 1 << 20
        ft.partitions = [fp]
        fetch.topics = [ft]
        let answer = try await client.send(fetch, version: 12).body as? FetchResponse
        let records = answer?.responses.first?.partitions.first?.records
        return (records.flatMap { try? KafkaRecords.decode($0) }?.records.count) ?? 0
    }

    @Test func servedClientsWithMovingTimeoutsDoNotMiss() async throws {
        let broker = try TestBroker()
        let path = Harness.tempPath("clocks.ktape")
        let live = try await withRecordingProxy(upstream: "127.0.0.1:\(broker.port)", capture: path) { bootstrap in
            let client = try await RawKafkaClient.connect(to: bootstrap)
            let n = try await Self.session(client, timeoutMs: 10_000, maxWaitMs: 500)
            await client.close()
            return n
        }
        broker.stop()
        #expect(live == 1)
        let served = try await withMockBroker(capture: path) { bootstrap in
            let client = try await RawKafkaClient.connect(to: bootstrap)
            let n = try await Self.session(client, timeoutMs: 9_987, maxWaitMs: 493)
            await client.close()
            return n
        }
        #expect(served == 1)
        // serve --strict matches every byte: the same client then misses.
        let strict = CaptureServer(
            session: try RecordedSession.read(path: path),
            configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), rules: .serveMatching(strict: true), latency: .none))
        try await strict.start()
        let client = try await RawKafkaClient.connect(to: strict.bootstrapAddress)
        _ = try? await Self.session(client, timeoutMs: 9_987, maxWaitMs: 493)
        await client.close()
        await strict.stop()
        #expect(strict.report.misses.count == 2)
    }
}
