import Foundation
import Testing

@testable import KafkaProtocolGenCore

/// Apache Kafka's own spec files (../shared/kafka-message-specs: 4.2.1, and -3.9), where they are
/// checked out next to the package, as tools/check-generated expects them.
enum RealSpecs {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let current = root.deletingLastPathComponent().appendingPathComponent("shared/kafka-message-specs").path
    static let old = root.deletingLastPathComponent().appendingPathComponent("shared/kafka-message-specs-3.9").path
    static let generated = root.appendingPathComponent("Sources/KafkaProtocol/Generated").path

    static var available: Bool {
        FileManager.default.fileExists(atPath: current + "/ProduceRequest.json")
            && FileManager.default.fileExists(atPath: old + "/ProduceRequest.json")
    }

    static func jsonFiles(_ dir: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".json") }
    }
}

@Suite(.enabled(if: RealSpecs.available, "needs ../shared/kafka-message-specs and -3.9"))
struct RealSpecTests {
    @Test func everySpecFileOfKafka421Parses() throws {
        let specs = try ProtocolGenerator.loadFolder(RealSpecs.current)
        #expect(specs.count == (try RealSpecs.jsonFiles(RealSpecs.current)).count)
        #expect(specs.count > 150)
        let requests = specs.filter { $0.kind == "request" }
        let responses = specs.filter { $0.kind == "response" }
        #expect(requests.count == responses.count)
        #expect(Set(requests.compactMap(\.apiKey)) == Set(responses.compactMap(\.apiKey)))
        #expect(specs.contains { $0.name == "RequestHeader" && $0.kind == "header" })
    }

    @Test func everySpecFileOfKafka39Parses() throws {
        let specs = try ProtocolGenerator.loadFolder(RealSpecs.old)
        #expect(specs.count == (try RealSpecs.jsonFiles(RealSpecs.old)).count)
    }

    @Test func knownFactsOfKafka421() throws {
        let specs = try ProtocolGenerator.loadFolder(RealSpecs.current)
        let produce = try #require(specs.first { $0.name == "ProduceRequest" })
        #expect(produce.apiKey == 0)
        // KIP-896 removed ProduceRequest v0-2 in Kafka 4.0.
        #expect(produce.valid.ranges == [3...13])
        #expect((produce.flexible & produce.valid).ranges == [9...13])
        let fetch = try #require(specs.first { $0.name == "FetchRequest" })
        #expect(fetch.apiKey == 1)
        #expect(fetch.valid.ranges == [4...18])
        let clusterId = try field("ClusterId", in: fetch.fields)
        #expect(clusterId.tag == 0)
        #expect(clusterId.nullable.ranges == [12...63])
        #expect(clusterId.defaultValue == "null")
        let replicaState = try field("ReplicaState", in: fetch.fields)
        #expect(replicaState.tag == 1)
        #expect(replicaState.fields?.map(\.name) == ["ReplicaId", "ReplicaEpoch"])
        #expect(try field("ReplicaId", in: fetch.fields).versions.ranges == [0...14])
        let apiVersions = try #require(specs.first { $0.name == "ApiVersionsRequest" })
        #expect(apiVersions.apiKey == 18)
        #expect(apiVersions.flexible.min == 3)
    }

    @Test func mergingKafka39BringsBackTheRemovedVersions() throws {
        let (specs, label) = try ProtocolGenerator.loadMerged(specsDir: RealSpecs.current, oldSpecsDir: RealSpecs.old)
        #expect(label == "Kafka 4.2.1, older versions from Kafka 3.9.0")
        let produce = try #require(specs.first { $0.name == "ProduceRequest" })
        #expect(produce.valid.ranges == [0...13])
        #expect(produce.sources == ["kafka-message-specs/ProduceRequest.json", "kafka-message-specs-3.9/ProduceRequest.json"])
        #expect(specs.map(\.name) == specs.map(\.name).sorted())
        #expect(!specs.contains { $0.valid.isEmpty })
    }

    /// The generator, run in process over the real specs, gives the committed codec byte for byte (what
    /// tools/check-generated checks through the executable).
    @Test func theCommittedCodecIsWhatTheEmitterMakes() throws {
        let (specs, label) = try ProtocolGenerator.loadMerged(specsDir: RealSpecs.current, oldSpecsDir: RealSpecs.old)
        var differing: [String] = []
        for s in specs {
            let committed = try String(contentsOfFile: "\(RealSpecs.generated)/\(s.name).swift", encoding: .utf8)
            if try Emitter(spec: s, kafkaVersions: label).emitFile() != committed { differing.append(s.name) }
        }
        #expect(differing.isEmpty, "differ from Sources/KafkaProtocol/Generated: \(differing.prefix(10))")
        let registry = try String(contentsOfFile: "\(RealSpecs.generated)/KafkaAPIs.swift", encoding: .utf8)
        #expect(ProtocolGenerator.emitRegistry(specs: specs, label: label) == registry)
        #expect(registry.contains("KafkaAPIDescriptor(apiKey: 0, name: \"Produce\", versions: 0...13, firstFlexibleVersion: 9,"))
    }
}
