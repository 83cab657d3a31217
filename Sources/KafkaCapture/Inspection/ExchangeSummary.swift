import KafkaProtocol

/// A compact, schema-agnostic summary of a decoded message: topics and partitions with their offsets,
/// record counts and error codes, plus the group/producer/session fields that explain a session.
/// It walks the generic `KafkaValue` tree by Kafka's field names, so it works for every API.
public enum ExchangeSummary {
    static let topicNameFields: Set<String> = ["Name", "Topic", "TopicName"]
    static let partitionFields: Set<String> = ["PartitionIndex", "Partition", "Index"]
    static let partitionFacts: [String] = [
        "FetchOffset", "Offset", "CommittedOffset", "BaseOffset", "HighWatermark", "LastStableOffset", "LogStartOffset",
        "Timestamp", "LeaderId",
    ]
    static let topLevelFacts: [String] = [
        "GroupId", "MemberId", "GenerationId", "ProducerId", "ProducerEpoch", "SessionId", "SessionEpoch", "Acks",
        "TransactionalId", "Key", "CoordinatorKey",
    ]

    public static func summarize(_ value: KafkaValue, limit: Int = 240) -> String {
        var parts: [String] = []
        guard case .object(let top) = value else { return "" }
        for f in top.fields {
            if topLevelFacts.contains(f.name), let s = scalar(f.value), s != "null", s != "\"\"", s != "-1" {
                parts.append("\(f.name)=\(s)")
            }
            if f.name == "ErrorCode", case .int(let c) = f.value, c != 0 {
                parts.append("error=\(KafkaErrorCode.name(Int16(truncatingIfNeeded: c)))")
            }
        }
        walk(value, topic: nil, into: &parts)
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

    static func walk(_ value: KafkaValue, topic: String?, into parts: inout [String]) {
        switch value {
        case .array(let a):
            for e in a { walk(e, topic: topic, into: &parts) }
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
                if let e = o["ErrorCode"], case .int(let c) = e, c != 0 {
                    facts.append("error=\(KafkaErrorCode.name(Int16(truncatingIfNeeded: c)))")
                }
                parts.append("\(t)[\(index)]" + (facts.isEmpty ? "" : " " + facts.joined(separator: " ")))
                return
            }
            for f in o.fields {
                if case .array = f.value { walk(f.value, topic: topic, into: &parts) }
            }
        default:
            return
        }
    }
}
