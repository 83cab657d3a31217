import KafkaProtocol

/// Finds a topic the recording knew and the target does not:
/// - an object whose `ErrorCode` was 0 in the recorded response and UNKNOWN_TOPIC_OR_PARTITION (3)
///   or UNKNOWN_TOPIC_ID (100) in the replayed one, walking both answers side by side (any API: it
///   reads only `ErrorCode` and the topic name fields);
/// - a topic the session uses that a recorded Metadata answer listed and the replayed one does not
///   (brokers that create topics on first produce never answer "unknown topic", but their Metadata
///   tells).
enum TopicErrorCheck {
    static let unknownTopicCodes: Set<Int64> = [3, 100]

    /// The topics a session's requests name (directly or by id) that its recorded answers know.
    static func sessionTopics(_ session: RecordedSession) -> Set<String> {
        let known = session.topicNames
        var answered: Set<String> = Set(known.values)
        var named: Set<String> = []
        for c in session.connections {
            for e in c.exchanges {
                if let d = try? KafkaFrameCodec.decodeRequest(e.request.payload) {
                    collectNames(d.body.kafkaValue(version: d.apiVersion), ids: known, into: &named)
                }
                if e.apiKey == 3, let r = e.response,
                    let d = try? KafkaFrameCodec.decodeResponse(r.payload, apiKey: e.apiKey, apiVersion: e.apiVersion)
                {
                    answered.formUnion(metadataTopics(d.body.kafkaValue(version: d.apiVersion)))
                }
            }
        }
        return named.intersection(answered)
    }

    static func collectNames(_ v: KafkaValue, ids: [KafkaUUID: String], into out: inout Set<String>) {
        switch v {
        case .object(let o):
            for f in o.fields {
                switch (f.name, f.value) {
                case ("Name", .string(let s)), ("Topic", .string(let s)), ("TopicName", .string(let s)): out.insert(s)
                case ("TopicId", .uuid(let id)): if let s = ids[id] { out.insert(s) }
                case (_, .object), (_, .array): collectNames(f.value, ids: ids, into: &out)
                default: continue
                }
            }
        case .array(let a):
            for e in a { collectNames(e, ids: ids, into: &out) }
        default:
            return
        }
    }

    /// Names of the topics a Metadata answer lists without an error.
    static func metadataTopics(_ response: KafkaValue) -> Set<String> {
        var out: Set<String> = []
        for t in response["Topics"]?.arrayValue ?? [] where (t["ErrorCode"]?.intValue ?? 0) == 0 {
            if let n = t["Name"]?.stringValue { out.insert(n) }
        }
        return out
    }

    /// A used topic listed in the recorded Metadata answer but not in the replayed one.
    static func missingFromMetadata(recorded: KafkaValue, replayed: KafkaValue, used: Set<String>) -> String? {
        metadataTopics(recorded).intersection(used).subtracting(metadataTopics(replayed)).sorted().first
    }

    /// The missing topic's name (or id) and the error's name, or nil.
    static func missingTopic(recorded: KafkaValue, replayed: KafkaValue, topicNames: [KafkaUUID: String]) -> (String, String)? {
        walk(recorded, replayed, topic: nil, names: topicNames)
    }

    static func walk(_ a: KafkaValue, _ b: KafkaValue, topic: String?, names: [KafkaUUID: String]) -> (String, String)? {
        switch (a, b) {
        case (.object(let oa), .object(let ob)):
            var topic = topic
            if let name = (ob["Name"] ?? ob["Topic"] ?? ob["TopicName"])?.stringValue, !name.isEmpty {
                topic = name
            } else if case .uuid(let id)? = ob["TopicId"] {
                topic = names[id] ?? id.description
            }
            if let code = ob["ErrorCode"]?.intValue, unknownTopicCodes.contains(code), oa["ErrorCode"]?.intValue == 0,
                let topic
            {
                return (topic, KafkaErrorCode.name(Int16(truncatingIfNeeded: code)))
            }
            for f in oa.fields {
                guard let vb = ob[f.name] else { continue }
                switch f.value {
                case .object, .array:
                    if let found = walk(f.value, vb, topic: topic, names: names) { return found }
                default:
                    continue
                }
            }
            return nil
        case (.array(let ea), .array(let eb)):
            if let key = ArrayKeys.keyField(forEach: [ea, eb], excluded: ["TopicId"]) {
                var byKey: [String: KafkaValue] = [:]
                for e in eb { if let k = ArrayKeys.key(of: e, field: key) { byKey[k.value] = e } }
                for e in ea {
                    if let k = ArrayKeys.key(of: e, field: key), let other = byKey[k.value],
                        let found = walk(e, other, topic: topic, names: names)
                    {
                        return found
                    }
                }
                return nil
            }
            for (x, y) in zip(ea, eb) {
                if let found = walk(x, y, topic: topic, names: names) { return found }
            }
            return nil
        default:
            return nil
        }
    }
}
