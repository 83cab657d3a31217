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

/// The generated field accessor (`KafkaFieldSettable`) is the inverse of rendering: for every schema,
/// version and leaf of random instances, setting a leaf to a new value changes exactly that leaf of
/// the rendered tree, and the result still round-trips through the codec.
@Suite struct GeneratedFieldAccessTests {
    @Test(arguments: allArbitraryMessages.map { ArbitraryCase(messageType: $0) })
    func settingALeafChangesExactlyThatLeaf(_ c: ArbitraryCase) throws {
        try Self.check(c.messageType)
    }

    static func check<M: ArbitraryKafkaMessage>(_ t: M.Type) throws {
        var leavesSet = 0
        for version in M.versions {
            var rng = SeededRandom(seed: UInt64(bitPattern: Int64(M.schemaName.hashValueStable &* 17 &+ Int(version))))
            for _ in 0..<3 {
                let value = M.arbitrary(version: version, rng: &rng, depth: 0)
                let tree = value.kafkaValue(version: version)
                for (path, leaf) in leaves(tree, path: []) {
                    guard let new = replacement(for: leaf) else { continue }
                    var edited = value
                    let ok = edited.setField(path[...], to: new, version: version)
                    #expect(ok, "\(M.schemaName) v\(version): cannot set \(path) to \(new)")
                    guard ok else { continue }
                    leavesSet += 1
                    #expect(edited.kafkaValue(version: version) == replacing(tree, at: path[...], with: new), "\(M.schemaName) v\(version) \(path)")
                    let reread = try M.decode(edited.encoded(version: version), version: version)
                    #expect(reread == edited, "\(M.schemaName) v\(version) \(path): the edit does not round-trip")
                }
                var same = value
                let unknown = same.setField([.field("NoSuchField")], to: .int(1), version: version)
                #expect(!unknown)
                #expect(same == value)
            }
        }
        _ = leavesSet
    }

    /// Every scalar leaf with its path (unknown tagged fields and null values are not settable leaves).
    static func leaves(_ v: KafkaValue, path: [KafkaFieldStep]) -> [([KafkaFieldStep], KafkaValue)] {
        switch v {
        case .object(let o):
            return o.fields.filter { $0.name != "_unknownTaggedFields" }.flatMap { leaves($0.value, path: path + [.field($0.name)]) }
        case .array(let a):
            return a.enumerated().flatMap { leaves($1, path: path + [.index($0)]) }
        case .null:
            return []
        default:
            return [(path, v)]
        }
    }

    static func replacement(for v: KafkaValue) -> KafkaValue? {
        switch v {
        case .int(let i): return .int(i == 0 ? 1 : 0)
        case .bool(let b): return .bool(!b)
        case .string(let s): return .string(s == "x" ? "y" : "x")
        case .uuid(let u): return .uuid(u == .zero ? KafkaUUID(high: 1, low: 2) : .zero)
        case .double(let d): return .double(d == 0 ? 1.5 : 0)
        case .bytes: return .bytes(ByteBuffer(string: "replaced"))
        default: return nil
        }
    }

    static func replacing(_ tree: KafkaValue, at path: ArraySlice<KafkaFieldStep>, with new: KafkaValue) -> KafkaValue {
        guard let step = path.first else { return new }
        switch (tree, step) {
        case (.object(var o), .field(let name)):
            guard let i = o.fields.firstIndex(where: { $0.name == name }) else { return tree }
            o.fields[i].value = replacing(o.fields[i].value, at: path.dropFirst(), with: new)
            return .object(o)
        case (.array(var a), .index(let i)) where a.indices.contains(i):
            a[i] = replacing(a[i], at: path.dropFirst(), with: new)
            return .array(a)
        default:
            return tree
        }
    }
}
