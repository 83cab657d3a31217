import KafkaProtocol

/// Compares a request's keyed arrays with the response arrays that answer them, along a generated
/// `KafkaKeyedPairing` (request `Topics[].Partitions[]` against response `Topics[].Partitions[]`, say).
///
/// Works on the rendered messages (`KafkaValue`), whose field names are the specs'. Rules (Kafka
/// answers per entry asked, under the same key): every key the request names is answered once; a
/// response entry whose key the request did not name, or that repeats a key, is a problem. Topics are
/// compared by name, topic ids (KIP-516) mapped to names where the capture knows them. A request array
/// that is null or empty asks for "all" (Metadata, OffsetFetch, DescribeLogDirs...), so nothing under
/// it is compared; an answer entry with a non-zero `ErrorCode` (and the response root with one)
/// answers for everything under it, so its children are not required.
struct KeyedAnswers {
    /// One disagreement: what kind, and the keys from the root down (`["topic t", "partition 1"]`).
    struct Problem: Hashable {
        enum Kind: Hashable { case missing, unasked, duplicate }
        var kind: Kind
        var path: [String]
        /// Index of the level (0 = top) where it was found.
        var depth: Int { path.count - 1 }
    }

    let topicName: (KafkaUUID) -> String

    func compare(_ pairing: KafkaKeyedPairing, request: KafkaValue, response: KafkaValue) -> [Problem] {
        guard !Self.hasError(response) else { return [] }
        var out: [Problem] = []
        compare(pairing, depth: 0, request: request, response: response, path: [], into: &out)
        return out
    }

    private func compare(
        _ pairing: KafkaKeyedPairing, depth: Int, request: KafkaValue, response: KafkaValue, path: [String],
        into out: inout [Problem]
    ) {
        guard depth < pairing.request.count, depth < pairing.response.count else { return }
        let reqLevel = pairing.request[depth]
        let respLevel = pairing.response[depth]
        guard let asked = request[reqLevel.field]?.arrayValue, !asked.isEmpty else { return }
        let answered = response[respLevel.field]?.arrayValue ?? []
        var askedKeys: [String: KafkaValue] = [:]
        var askedOrder: [String] = []
        for entry in asked {
            let k = key(entry, reqLevel)
            if askedKeys[k] == nil {
                askedKeys[k] = entry
                askedOrder.append(k)
            }
        }
        var answeredKeys: [String: KafkaValue] = [:]
        var reported: Set<String> = []
        for entry in answered {
            let k = key(entry, respLevel)
            if answeredKeys[k] != nil {
                if reported.insert(k).inserted { out.append(Problem(kind: .duplicate, path: path + [k])) }
                continue
            }
            answeredKeys[k] = entry
            if askedKeys[k] == nil { out.append(Problem(kind: .unasked, path: path + [k])) }
        }
        for k in askedOrder {
            guard let answer = answeredKeys[k] else {
                out.append(Problem(kind: .missing, path: path + [k]))
                continue
            }
            if depth + 1 < pairing.request.count, !Self.hasError(answer), let question = askedKeys[k] {
                compare(pairing, depth: depth + 1, request: question, response: answer, path: path + [k], into: &out)
            }
        }
    }

    /// The entry's key as people read it: `topic t`, `partition 0`, `group g`, `resource 2/t`.
    func key(_ entry: KafkaValue, _ level: KafkaKeyLevel) -> String {
        var topicByName: String?
        var topicById: String?
        var hasTopic = false
        var resourceType: String?
        var resourceName: String?
        var parts: [String] = []
        for k in level.keys {
            let value: KafkaValue?
            if let name = k.name { value = entry[name] } else { value = entry }
            switch k.kind {
            case .topicName:
                hasTopic = true
                if case .string(let s)? = value, !s.isEmpty { topicByName = s }
            case .topicId:
                hasTopic = true
                if case .uuid(let u)? = value, u != .zero { topicById = topicName(u) }
            case .partition:
                parts.append("partition \(Self.text(value))")
            case .groupId:
                parts.append("group \(Self.text(value))")
            case .transactionalId:
                parts.append("transactional id \(Self.text(value))")
            case .producerId:
                parts.append("producer id \(Self.text(value))")
            case .resourceType:
                resourceType = Self.text(value)
            case .resourceName:
                resourceName = Self.text(value)
            }
        }
        if hasTopic { parts.insert("topic \(topicByName ?? topicById ?? "(none)")", at: 0) }
        if resourceType != nil || resourceName != nil {
            parts.append("resource \(resourceType ?? "?")/\(resourceName ?? "?")")
        }
        return parts.joined(separator: " ")
    }

    static func text(_ v: KafkaValue?) -> String {
        switch v {
        case .string(let s)?: return s
        case .int(let i)?: return String(i)
        case .uuid(let u)?: return u.description
        case .null?, nil: return "null"
        default: return "?"
        }
    }

    /// Whether an entry (or message root) carries a non-zero `ErrorCode` of its own.
    static func hasError(_ v: KafkaValue) -> Bool {
        if let c = v["ErrorCode"]?.intValue { return c != 0 }
        return false
    }
}
