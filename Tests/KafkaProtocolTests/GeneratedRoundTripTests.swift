import NIOCore
import Testing

@testable import KafkaProtocol

/// For every schema and every version: seeded random instances satisfy decode(encode(v)) == v and
/// encode(decode(b)) == b.
@Suite struct GeneratedRoundTripTests {
    static let instancesPerVersion = 25

    @Test func everyApiKeyHasRequestAndResponse() {
        #expect(KafkaAPIs.all.count >= 93)
        let keys = Set(KafkaAPIs.all.map(\.apiKey))
        for k in Int16(0)...Int16(74) where ![Int16(26), 27, 28, 29, 30, 31, 34, 35, 46, 58].contains(k) || keys.contains(k) {
            #expect(keys.contains(k), "API key \(k) missing")
        }
        // Versions removed in Kafka 4.0 come from the 3.9 specs.
        #expect(KafkaAPIs.descriptor(apiKey: 0)?.versions == 0...13)
        #expect(KafkaAPIs.descriptor(apiKey: 1)?.versions.lowerBound == 0)
        #expect(KafkaAPIs.descriptor(apiKey: 4)?.name == "LeaderAndIsr")
    }

    @Test(arguments: allArbitraryMessages.map { ArbitraryCase(messageType: $0) })
    func roundTrip(_ c: ArbitraryCase) throws {
        try c.run(instances: Self.instancesPerVersion)
    }
}

struct ArbitraryCase: CustomTestStringConvertible, Sendable {
    let messageType: any ArbitraryKafkaMessage.Type
    var testDescription: String { messageType.schemaName }

    func run(instances: Int) throws {
        try roundTrip(messageType)
    }

    private func roundTrip<M: ArbitraryKafkaMessage>(_ t: M.Type) throws {
        var nonDefault = 0
        defer { #expect(nonDefault > 0, "\(M.schemaName): every random instance equals the default value") }
        for version in M.versions {
            var rng = SeededRandom(seed: UInt64(bitPattern: Int64(M.schemaName.hashValueStable &* 31 &+ Int(version))))
            for i in 0..<GeneratedRoundTripTests.instancesPerVersion {
                let value = M.arbitrary(version: version, rng: &rng, depth: 0)
                if value != M() { nonDefault += 1 }
                let bytes = value.encoded(version: version)
                let decoded: M
                do {
                    decoded = try M.decode(bytes, version: version)
                } catch {
                    Issue.record("\(M.schemaName) v\(version) #\(i): decode failed: \(error)")
                    return
                }
                #expect(decoded == value, "\(M.schemaName) v\(version) #\(i): decode(encode(v)) != v")
                let again = decoded.encoded(version: version)
                #expect(again == bytes, "\(M.schemaName) v\(version) #\(i): encode(decode(b)) != b")
            }
        }
    }
}

extension String {
    /// A hash that is the same in every process (String.hashValue is seeded per run).
    var hashValueStable: Int {
        var h: UInt64 = 1_469_598_103_934_665_603
        for b in utf8 {
            h ^= UInt64(b)
            h = h &* 1_099_511_628_211
        }
        return Int(truncatingIfNeeded: h & 0x7fff_ffff)
    }
}
