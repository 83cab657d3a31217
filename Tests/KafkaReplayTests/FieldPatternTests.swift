import KafkaProtocol
import Testing

@testable import KafkaReplay

@Suite struct FieldPatternTests {
    func path(_ components: FieldPathComponent...) -> FieldPath { FieldPath(components) }

    let hwm = FieldPath([
        .field("Responses"), .element(index: 0, key: ElementKey(name: "Topic", value: "orders")), .field("Partitions"),
        .element(index: 2, key: ElementKey(name: "PartitionIndex", value: "2")), .field("HighWatermark"),
    ])

    @Test func pathsRenderWithKeysOrPositions() {
        #expect(hwm.description == "Responses[Topic=orders].Partitions[PartitionIndex=2].HighWatermark")
        #expect(path(.field("Brokers"), .element(index: 0, key: nil), .field("Port")).description == "Brokers[0].Port")
        #expect(FieldPath.root.description == "(message)")
    }

    @Test(arguments: [
        "Responses[].Partitions[].HighWatermark", "Responses.Partitions.HighWatermark", "**.HighWatermark",
        "responses[*].partitions[2].highwatermark", "Responses[topic=orders].Partitions[partitionIndex=2].HighWatermark",
        "**.Partitions.*", "Responses.**.HighWatermark", "Fetch:response:**.HighWatermark",
    ])
    func matchingPatterns(_ text: String) throws {
        let p = try FieldPattern(text)
        #expect(p.matches(hwm), "\(text)")
    }

    @Test(arguments: [
        "HighWatermark", "Responses[1].Partitions[].HighWatermark", "Responses[Topic=payments].Partitions.HighWatermark",
        "**.LastStableOffset", "Responses.Partitions", "Responses[].HighWatermark",
    ])
    func nonMatchingPatterns(_ text: String) throws {
        #expect(!(try FieldPattern(text)).matches(hwm), "\(text)")
    }

    @Test func qualifiersNarrowApiAndDirection() throws {
        let p = try FieldPattern("ListOffsets:response:**.Timestamp")
        #expect(p.applies(api: "ListOffsets", direction: .response))
        #expect(!p.applies(api: "ListOffsets", direction: .request))
        #expect(!p.applies(api: "Fetch", direction: .response))
        let q = try FieldPattern("request:**.Records[].timestamp")
        #expect(q.applies(api: "Produce", direction: .request))
        #expect(!q.applies(api: "Fetch", direction: .response))
    }

    @Test func keyValuesMayContainDotsAndColons() throws {
        let p = try FieldPattern("Topics[Name=a.b:c].Partitions")
        #expect(p.matches(path(.field("Topics"), .element(index: 0, key: ElementKey(name: "Name", value: "a.b:c")), .field("Partitions"))))
    }

    @Test(arguments: ["", "Topics[", "Topics[x]", "Nope:Topics", "a..b", "Topics[]x", "request:response:A", "[=v]"])
    func badPatternsAreRejected(_ text: String) {
        #expect(throws: FieldPatternError.self) { try FieldPattern(text) }
    }

    @Test func defaultNoiseRulesAllParse() {
        #expect(NormalizationRules.defaultNoise.count == 18)
        #expect(NormalizationRules.clientComputed.count == 5)
        #expect(NormalizationRules.standard(strict: true).rules.isEmpty)
        #expect(NormalizationRules.defaultNoiseHelp.contains("**.ThrottleTimeMs"))
    }
}
