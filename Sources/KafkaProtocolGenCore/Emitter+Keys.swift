import Foundation

/// Emits `KafkaAPIs.keyedPairings`: for every API, which request arrays name what is asked about
/// (topics, partitions, groups, transactional ids, producer ids, config resources) and which response
/// arrays answer them, per version.
///
/// Keys are recognised from the specs, not from a list of APIs: a field with `entityType` topicName,
/// groupId, transactionalId or producerId; a uuid `TopicId` (KIP-516); an int32 `PartitionIndex`,
/// `Partition`, `PartitionId` (or `Index` in a partition array); `ResourceType` with `ResourceName`.
/// A "chain" is a path of nested keyed arrays from the message root; an array of strings with an
/// entity type, or of int32 partition indexes, ends a chain with the element as key. A request chain
/// and a response chain pair when their key kinds agree level by level (topic name and topic id count
/// as one kind) and each is the only chain of that shape on its side (among equals, the one with fewer
/// primitive levels: `FetchRequest.Topics[].Partitions[]` rather than `ForgottenTopicsData[].Partitions`).
/// Only the longest pairs are kept: checking topic+partition also checks the topic.
extension Emitter {
    struct KeyField: Hashable {
        var name: String?
        var kind: String
    }

    struct KeyLevel: Hashable {
        var field: String
        var keys: [KeyField]

        /// The key kinds with topic name and id folded into one, for matching the two sides.
        var signature: String {
            Set(keys.map { $0.kind == "topicName" || $0.kind == "topicId" ? "topic" : $0.kind }).sorted().joined(separator: "+")
        }
        var isPrimitive: Bool { keys.count == 1 && keys[0].name == nil }
    }

    struct KeyPair: Hashable {
        var request: [KeyLevel]
        var response: [KeyLevel]
    }

    static let partitionKeyNames: Set<String> = ["PartitionIndex", "Partition", "PartitionId"]
    static let partitionListNames: Set<String> = ["Partitions", "PartitionIndexes", "PartitionIds"]
    static let entityKinds: [String: (type: String, kind: String)] = [
        "topicName": ("string", "topicName"), "groupId": ("string", "groupId"),
        "transactionalId": ("string", "transactionalId"), "producerId": ("int64", "producerId"),
    ]

    /// The key fields of a struct at `version`; empty when it has none, nil when ambiguous (two keys
    /// of one kind).
    static func keyFields(_ fields: [Field], version v: Int, arrayName: String) -> [KeyField]? {
        let present = fields.filter { $0.versions.contains(v) }
        let names = Set(present.map(\.name))
        var keys: [KeyField] = []
        for f in present {
            guard case .primitive(let p) = f.type else { continue }
            var kind: String?
            if let e = f.entityType, let k = entityKinds[e], k.type == p {
                kind = k.kind
            } else if p == "uuid" && f.name == "TopicId" {
                kind = "topicId"
            } else if p == "int32"
                && (partitionKeyNames.contains(f.name) || (f.name == "Index" && arrayName.contains("Partition")))
            {
                kind = "partition"
            } else if p == "int8" && f.name == "ResourceType" && names.contains("ResourceName") {
                kind = "resourceType"
            } else if p == "string" && f.name == "ResourceName" && names.contains("ResourceType") {
                kind = "resourceName"
            }
            guard let kind else { continue }
            if keys.contains(where: { $0.kind == kind }) { return nil }
            keys.append(KeyField(name: f.name, kind: kind))
        }
        return keys
    }

    /// Every chain of keyed arrays from `fields` down, at `version`.
    static func keyChains(_ fields: [Field], spec: MessageSpec, version v: Int, prefix: [KeyLevel]) -> [[KeyLevel]] {
        var out: [[KeyLevel]] = []
        for f in fields where f.versions.contains(v) {
            guard case .array(let element) = f.type else { continue }
            switch element {
            case .structure(let sn):
                guard let sub = f.fields ?? spec.commonStructs[sn],
                    let keys = keyFields(sub, version: v, arrayName: f.name), !keys.isEmpty
                else { continue }
                let chain = prefix + [KeyLevel(field: f.name, keys: keys)]
                out.append(chain)
                out += keyChains(sub, spec: spec, version: v, prefix: chain)
            case .primitive(let p):
                if p == "string", let e = f.entityType, let k = entityKinds[e], k.type == "string" {
                    out.append(prefix + [KeyLevel(field: f.name, keys: [KeyField(name: nil, kind: k.kind)])])
                } else if p == "int32", !prefix.isEmpty, partitionListNames.contains(f.name) {
                    out.append(prefix + [KeyLevel(field: f.name, keys: [KeyField(name: nil, kind: "partition")])])
                }
            case .array:
                continue
            }
        }
        return out
    }

    /// The request/response chain pairs of one version.
    static func keyPairs(request: MessageSpec, response: MessageSpec, version v: Int) -> [KeyPair] {
        func best(_ chains: [[KeyLevel]]) -> [String: [KeyLevel]] {
            var bySignature: [String: [[KeyLevel]]] = [:]
            for c in chains { bySignature[c.map(\.signature).joined(separator: "/"), default: []].append(c) }
            var out: [String: [KeyLevel]] = [:]
            for (sig, list) in bySignature {
                let fewest = list.map { $0.filter(\.isPrimitive).count }.min() ?? 0
                let winners = list.filter { $0.filter(\.isPrimitive).count == fewest }
                if winners.count == 1 { out[sig] = winners[0] }
            }
            return out
        }
        let req = best(keyChains(request.fields, spec: request, version: v, prefix: []))
        let resp = best(keyChains(response.fields, spec: response, version: v, prefix: []))
        var pairs: [KeyPair] = []
        for (sig, r) in req {
            if let s = resp[sig] { pairs.append(KeyPair(request: r, response: s)) }
        }
        // Keep the longest: a pair whose paths both extend another's makes the shorter one redundant.
        func extends(_ long: [KeyLevel], _ short: [KeyLevel]) -> Bool {
            long.count > short.count && Array(long.prefix(short.count)).map(\.field) == short.map(\.field)
        }
        return pairs.filter { p in
            !pairs.contains { q in extends(q.request, p.request) && extends(q.response, p.response) }
        }
    }

    static func emitKeyedPairings(specs: [MessageSpec], label: String) -> String {
        var s = "// DO NOT EDIT. Generated by KafkaProtocolGen (\(label)) from the request and response specs' keyed arrays.\n\n"
        s += "/// Request arrays and the response arrays that answer them, per API and version range (see\n"
        s += "/// `KafkaKeyedPairing`; the pairing rules are in KafkaProtocolGen's Emitter+Keys.swift).\n"
        s += "extension KafkaAPIs {\n"
        s += "    public static let keyedPairings: [KafkaKeyedPairing] = [\n"
        let requests = specs.filter { $0.kind == "request" }.sorted { ($0.apiKey ?? 0) < ($1.apiKey ?? 0) }
        let responses = Dictionary(specs.filter { $0.kind == "response" }.map { ($0.apiKey ?? -1, $0) }, uniquingKeysWith: { a, _ in a })
        for r in requests {
            guard let k = r.apiKey, let resp = responses[k] else { continue }
            let versions = r.valid & resp.valid
            var order: [KeyPair] = []
            var sets: [KeyPair: VersionSet] = [:]
            for range in versions.ranges {
                for v in range {
                    for p in keyPairs(request: r, response: resp, version: v) {
                        if sets[p] == nil { order.append(p) }
                        sets[p, default: .empty] = (sets[p] ?? .empty) | VersionSet(range: v, v)
                    }
                }
            }
            var entries: [(ClosedRange<Int>, KeyPair)] = []
            for p in order {
                for range in (sets[p] ?? .empty).ranges { entries.append((range, p)) }
            }
            entries.sort { a, b in
                a.0.lowerBound != b.0.lowerBound ? a.0.lowerBound < b.0.lowerBound : render(a.1.request) < render(b.1.request)
            }
            for (range, p) in entries {
                s += "        KafkaKeyedPairing(\n"
                s += "            apiKey: \(k), versions: \(range.lowerBound)...\(range.upperBound),\n"
                s += "            request: \(render(p.request)),\n"
                s += "            response: \(render(p.response))),\n"
            }
        }
        s += "    ]\n}\n"
        return s
    }

    static func render(_ levels: [KeyLevel]) -> String {
        let parts = levels.map { l in
            let keys = l.keys.map { k in "KafkaKeyField(\(k.name.map { "\"\($0)\"" } ?? "nil"), .\(k.kind))" }
            return "KafkaKeyLevel(\"\(l.field)\", [\(keys.joined(separator: ", "))])"
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
