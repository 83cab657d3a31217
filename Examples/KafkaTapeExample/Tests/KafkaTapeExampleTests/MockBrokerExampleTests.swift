import Foundation
import KafkaTape
import KafkaTapeTesting
import Testing

/// The repository's root, where the bundled captures and the test kit are.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Serving a bundled capture to a raw Kafka client: the whole test is these lines.
@Test func servesTheCleanSchemaRegistrySession() async throws {
    let capture = repository.appendingPathComponent("captures/schema-registry-clean/session.ktape").path
    let brokers = try await withMockBroker(capture: capture) { bootstrap in
        let client = try await RawKafkaClient.connect(to: bootstrap)
        _ = try await client.send(ApiVersionsRequest(), version: 4)
        var metadata = MetadataRequest()
        metadata.topics = []
        metadata.allowAutoTopicCreation = true
        let answer = try await client.send(metadata, version: 12).body as? MetadataResponse
        await client.close()
        return answer?.brokers.map(\.nodeId) ?? []
    }
    #expect(brokers == [111])
}

/// The bundled stale-fetch capture is not clean, and says why.
@Test func checkFindsTheStaleFetch() throws {
    let capture = repository.appendingPathComponent("captures/schema-registry-stale-fetch/session.ktape").path
    let report = try checkCapture(capture, skip: [InvariantID(16)])
    #expect(!report.isClean)
    #expect(!report.findings(InvariantID(3)).isEmpty, "the first batch must cover the fetch offset")
}
