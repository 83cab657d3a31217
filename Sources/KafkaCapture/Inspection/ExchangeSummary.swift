import KafkaProtocol

/// A compact, schema-agnostic summary of a decoded message: topics and partitions with their offsets,
/// record counts and error codes, plus the group/producer/session fields that explain a session.
/// It walks the generic `KafkaValue` tree by Kafka's field names, so it works for every API, with no
/// code per API: every named element (topic, group, resource, transaction) appears with its non-zero
/// error codes, and every non-zero error code appears with the name of the element that carries it.
public enum ExchangeSummary {
    static let topicNameFields: Set<String> = ["Name", "Topic", "TopicName"]
    /// Fields that name the element they are in, for any API: topics, groups, resources, transactions.
    static let elementNameFields: [String] = [
        "Name", "Topic", "TopicName", "GroupId", "GroupName", "ResourceName", "TransactionalId",
    ]
    static let partitionFields: Set<String> = ["PartitionIndex", "Partition", "Index"]
    static let partitionFacts: [String] = [
        "FetchOffset", "Offset", "CommittedOffset", "BaseOffset", "HighWatermark", "LastStableOffset", "LogStartOffset",
        "Timestamp", "LeaderId",
    ]
    static let topLevelFacts: [String] = [
        "GroupId", "MemberId", "GenerationId", "ProducerId", "ProducerEpoch", "SessionId", "SessionEpoch", "Acks",
        "TransactionalId", "Key", "CoordinatorKey",
    ]

    /// A one-line summary of a message for `dump`: the identifying facts (group, producer id, offsets, error
    /// codes, topic and partition names) found in `value`, cut at `limit` characters.
    public static func summarize(_ value: KafkaValue, limit: Int = 240) -> String {
        var parts: [String] = []
        guard case .object(let top) = value else { return "" }
        for f in top.fields {
            if topLevelFacts.contains(f.name), let s = scalar(f.value), s != "null", s != "\"\"", s != "-1" {
                parts.append("\(f.name)=\(s)")
            }
            if f.name.hasSuffix("ErrorCode"), case .int(let c) = f.value, c != 0 {
                parts.append("\(errorLabel(f.name))=\(KafkaErrorCode.name(Int16(truncatingIfNeeded: c)))")
            }
        }
        // The top level's own name and errors are the facts above; below it, every element speaks for itself.
        var topic: String?
        if let name = top.fields.first(where: { topicNameFields.contains($0.name) })?.value, case .string(let s) = name {
            topic = s
        }
        for f in top.fields {
            if case .array = f.value { walk(f.value, topic: topic, names: wantsNames(f.name), into: &parts) }
        }
        var out = ""
        for (i, p) in parts.enumerated() {
            let next = out.isEmpty ? p : out + " " + p
            if next.count > limit {
                out += " …(+\(parts.count - i))"
                break
            }
            out = next
        }
        return out
    }

    static func scalar(_ v: KafkaValue) -> String? {
        switch v {
        case .int(let i): return String(i)
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return String(b)
        case .uuid(let u): return u.description
        case .null: return "null"
        default: return nil
        }
    }

    /// Config entries (`Configs`, `Synonyms`) carry a `Name` too, but a config key is not what a
    /// summary line is for; their errors still show.
    static func wantsNames(_ arrayField: String) -> Bool {
        !(arrayField.hasSuffix("Configs") || arrayField == "Synonyms" || arrayField.hasSuffix("Config"))
    }

    static func walk(_ value: KafkaValue, topic: String?, names: Bool = true, into parts: inout [String]) {
        switch value {
        case .array(let a):
            for e in a { walk(e, topic: topic, names: names, into: &parts) }
        case .object(let o):
            var topic = topic
            if let name = o.fields.first(where: { topicNameFields.contains($0.name) })?.value, case .string(let s) = name,
                o.fields.contains(where: { if case .array = $0.value { return true } else { return false } })
            {
                topic = s
            }
            if let t = topic, let p = o.fields.first(where: { partitionFields.contains($0.name) })?.value,
                case .int(let index) = p
            {
                var facts: [String] = []
                for name in partitionFacts {
                    if let v = o[name], case .int(let i) = v, i != -1 || name == "Offset" { facts.append("\(name)=\(i)") }
                }
                if let records = o["Records"] ?? o["RecordSet"], case .records(let b) = records {
                    if let set = try? KafkaRecords.decode(b, verifyCRC: false) {
                        let recs = set.records
                        if let first = recs.first, let last = recs.last {
                            facts.append("records=\(recs.count)@\(first.offset)-\(last.offset)")
                        } else {
                            facts.append("records=0")
                        }
                    } else {
                        facts.append("records=undecodable")
                    }
                }
                facts += errorFields(o)
                parts.append("\(t)[\(index)]" + (facts.isEmpty ? "" : " " + facts.joined(separator: " ")))
                return
            }
            let before = parts.count
            for f in o.fields {
                if case .array = f.value { walk(f.value, topic: topic, names: names && wantsNames(f.name), into: &parts) }
            }
            // An element with a name or an error that nothing below already showed: name it, with its
            // errors (a topic CreateTopics refused, a group DeleteGroups could not delete, a resource).
            let name = !names ? nil : elementNameFields.lazy.compactMap { field -> String? in
                if case .string(let s)? = o[field] { return s }
                return nil
            }.first
            let errors = errorFields(o)
            if (name != nil && parts.count == before) || !errors.isEmpty {
                var part = name ?? ""
                for e in errors { part += (part.isEmpty ? "" : " ") + e }
                parts.append(part)
            }
        default:
            return
        }
    }

    /// `error=NAME` for each non-zero `…ErrorCode` field of an object (not of its children).
    static func errorFields(_ o: KafkaObject) -> [String] {
        var out: [String] = []
        for f in o.fields where f.name.hasSuffix("ErrorCode") {
            if case .int(let c) = f.value, c != 0 {
                out.append("\(errorLabel(f.name))=\(KafkaErrorCode.name(Int16(truncatingIfNeeded: c)))")
            }
        }
        return out
    }

    /// `error` for `ErrorCode`; the field name for the others (`TopLevelErrorCode`), so they stay apart.
    static func errorLabel(_ field: String) -> String {
        field == "ErrorCode" ? "error" : field
    }
}
