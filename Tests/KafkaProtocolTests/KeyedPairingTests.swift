import KafkaProtocol
import Testing

/// `KafkaAPIs.keyedPairings`, generated from the specs (KafkaProtocolGen's Emitter+Keys.swift).
@Suite struct KeyedPairingTests {
    func only(_ apiKey: Int16, _ version: Int16) throws -> KafkaKeyedPairing {
        let list = KafkaKeyedPairing.pairings(apiKey: apiKey, version: version)
        #expect(list.count == 1, "\(list)")
        return try #require(list.first)
    }

    @Test func producePairsTopicsAndPartitions() throws {
        let p = try only(0, 9)
        #expect(p.request.map(\.field) == ["TopicData", "PartitionData"])
        #expect(p.response.map(\.field) == ["Responses", "PartitionResponses"])
        #expect(p.request[0].keys == [KafkaKeyField("Name", .topicName)])
        #expect(p.response[1].keys == [KafkaKeyField("Index", .partition)])
        // KIP-516: Produce v13 names topics by id on both sides.
        #expect(try only(0, 13).request[0].keys == [KafkaKeyField("TopicId", .topicId)])
    }

    @Test func fetchPairsTheFetchedTopicsNotTheForgottenOnes() throws {
        let p = try only(1, 12)
        #expect(p.request.map(\.field) == ["Topics", "Partitions"])
        #expect(p.response.map(\.field) == ["Responses", "Partitions"])
        #expect(try only(1, 13).response[0].keys == [KafkaKeyField("TopicId", .topicId)])
    }

    @Test func primitiveArraysAndGroups() throws {
        // OffsetFetch v8: Groups[].Topics[].PartitionIndexes (int32s) against Groups[].Topics[].Partitions[].
        let p = try only(9, 8)
        #expect(p.request.map(\.field) == ["Groups", "Topics", "PartitionIndexes"])
        #expect(p.request[2].keys == [KafkaKeyField(nil, .partition)])
        #expect(p.response.map(\.field) == ["Groups", "Topics", "Partitions"])
        // DescribeGroups: a list of group ids against the groups described.
        #expect(try only(15, 5).request[0].keys == [KafkaKeyField(nil, .groupId)])
        // DescribeConfigs: resources by type and name.
        #expect(try only(32, 4).response[0].keys.map(\.kind) == [.resourceType, .resourceName])
    }

    @Test func everyPairingIsWellFormed() {
        #expect(KafkaAPIs.keyedPairings.count >= 40)
        for p in KafkaAPIs.keyedPairings {
            #expect(p.request.count == p.response.count, "\(p)")
            let api = KafkaAPIs.descriptor(apiKey: p.apiKey)
            #expect(api.map { $0.versions.contains(p.versions.lowerBound) && $0.versions.contains(p.versions.upperBound) } == true)
            for (a, b) in zip(p.request, p.response) {
                func kinds(_ l: KafkaKeyLevel) -> Set<String> {
                    Set(l.keys.map { $0.kind == .topicId ? "topicName" : $0.kind.rawValue })
                }
                #expect(kinds(a) == kinds(b), "\(p)")
            }
        }
        // APIs without keyed arrays on both sides have no pairing.
        #expect(KafkaKeyedPairing.pairings(apiKey: 18, version: 3).isEmpty)
        #expect(KafkaKeyedPairing.pairings(apiKey: 12, version: 4).isEmpty)
    }
}
