import KafkaProtocol

/// How the elements of an array of objects are matched between two messages: by a key field when
/// every element has one and its values are unique, else by position.
///
/// The candidates are the fields Kafka's message specs declare as `mapKey` (topic and resource
/// names, partition indexes, node ids, API keys, group and transactional ids), in that order, plus
/// `TopicName` (derived from topic ids, see `MessageNormalizer`) and `offset` (decoded records).
/// Fields whose values a broker assigns per run (member ids, topic ids) are never keys: two runs
/// would never agree on them.
public enum ArrayKeys {
    /// Key field names in order of preference: an array is keyed by the first one that every element has, with no value twice.
    public static let candidates: [String] = [
        "Name", "Topic", "TopicName", "PartitionIndex", "Partition", "Index", "NodeId", "BrokerId", "ApiKey", "GroupId",
        "TransactionalId", "Key", "ResourceName", "Feature", "offset",
    ]

    /// The key field for these elements, or nil for positional matching. `excluded` names fields that
    /// must not be keys (noise, bound values).
    static func keyField(for elements: [KafkaValue], excluded: Set<String> = []) -> String? {
        keyField(forEach: [elements], excluded: excluded)
    }

    /// A key field that identifies elements within each of the groups on its own (two versions of one
    /// array: the same key value on both sides is the point).
    static func keyField(forEach groups: [[KafkaValue]], excluded: Set<String> = []) -> String? {
        guard groups.contains(where: { !$0.isEmpty }) else { return nil }
        var objectGroups: [[KafkaObject]] = []
        for g in groups {
            var objects: [KafkaObject] = []
            objects.reserveCapacity(g.count)
            for e in g {
                guard case .object(let o) = e else { return nil }
                objects.append(o)
            }
            objectGroups.append(objects)
        }
        candidateLoop: for name in candidates where !excluded.contains(name) {
            for objects in objectGroups {
                var seen: Set<String> = []
                for o in objects {
                    guard let v = o[name], let t = v.keyText, seen.insert(t).inserted else { continue candidateLoop }
                }
            }
            return name
        }
        return nil
    }

    static func key(of element: KafkaValue, field: String?) -> ElementKey? {
        guard let field, let t = element[field]?.keyText else { return nil }
        return ElementKey(name: field, value: t)
    }
}
