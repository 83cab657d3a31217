import KafkaProtocol
import NIOCore

/// Turns a decoded message into the tree that comparisons see:
///
/// - `records` fields become arrays of decoded records, one object per record with `offset`,
///   `timestamp` (or `logAppendTime` for batches whose timestamps the broker assigned), `key`,
///   `value` and `headers` (`[{key, value}]`), plus `control` for transaction markers. Batch framing
///   (CRC, lengths, compression, producer fields) is left out: the records are what a consumer sees.
///   A truncated batch at the end of a fetch response is ignored, as consumers ignore it.
/// - An object that names a topic only by `TopicId` (Fetch v13+, Produce v13+) gets a derived
///   `TopicName` from the capture's own Metadata answers, so topics are matched and reported by name.
/// - Every field a rule matches is treated as the rule says (`NoiseTreatment`): removed with its
///   subtree, renamed consistently (with a `renamer`; removed without one), or reduced to "a broker
///   time" / "no time".
public struct MessageNormalizer: Sendable {
    /// The noise rules to apply.
    public var rules: NormalizationRules
    /// Topic names by id, learned from the capture's responses.
    public var topicNames: [KafkaUUID: String]
    /// Gives identifiers their consistent names; one per capture, fed in comparison order.
    public var renamer: IdentifierRenamer?

    /// A normaliser with `rules`, the capture's topic names by id, and the capture's renamer (nil: renamed fields are removed).
    public init(rules: NormalizationRules, topicNames: [KafkaUUID: String] = [:], renamer: IdentifierRenamer? = nil) {
        self.rules = rules
        self.topicNames = topicNames
        self.renamer = renamer
    }

    /// The comparable tree of one decoded message of API `api` in `direction`.
    public func normalize(_ value: KafkaValue, api: String, direction: FieldPattern.Direction) -> KafkaValue {
        let applicable = rules.applicable(api: api, direction: direction)
        return walk(value, path: .root, rules: applicable)
    }

    func walk(_ value: KafkaValue, path: FieldPath, rules: [NoiseRule]) -> KafkaValue {
        switch value {
        case .object(let o):
            var out = KafkaObject()
            out.fields.reserveCapacity(o.fields.count + 1)
            fields: for f in withTopicName(o).fields {
                let child = path.appending(field: f.name)
                if !rules.isEmpty {
                    let lower = f.name.lowercased()
                    if let rule = rules.first(where: { $0.pattern.matches(child, lastFieldLowercased: lower) }) {
                        switch rule.treatment {
                        case .ignore:
                            continue fields
                        case .rename(let namespace):
                            guard let renamer else { continue fields }
                            out.append(f.name, renamer.rename(f.value, in: namespace))
                            continue fields
                        case .brokerTime:
                            if case .int(let t) = f.value, t >= 0 {
                                out.append(f.name, .string("(broker time)"))
                            } else {
                                out.append(f.name, f.value)
                            }
                            continue fields
                        }
                    }
                }
                out.append(f.name, walk(f.value, path: child, rules: rules))
            }
            return .object(out)
        case .array(let elements):
            let enriched = elements.map { e -> KafkaValue in
                if case .object(let o) = e { return .object(withTopicName(o)) }
                return e
            }
            let keyField = ArrayKeys.keyField(for: enriched, excluded: excludedKeys(under: path, rules: rules))
            var out: [KafkaValue] = []
            out.reserveCapacity(enriched.count)
            for (i, e) in enriched.enumerated() {
                let child = path.appending(index: i, key: ArrayKeys.key(of: e, field: keyField))
                if rules.contains(where: { $0.pattern.matches(child) }) { continue }
                out.append(walk(e, path: child, rules: rules))
            }
            return .array(out)
        case .records(let buffer):
            return walk(Self.decodedRecords(buffer), path: path, rules: rules)
        default:
            return value
        }
    }

    /// Key candidates that the rules remove or rename (such a field cannot identify an element).
    func excludedKeys(under path: FieldPath, rules: [NoiseRule]) -> Set<String> {
        guard !rules.isEmpty else { return [] }
        var out: Set<String> = []
        let element = path.appending(index: 0, key: nil)
        for name in ArrayKeys.candidates {
            let lower = name.lowercased()
            let candidate = element.appending(field: name)
            if rules.contains(where: { $0.pattern.matches(candidate, lastFieldLowercased: lower) }) { out.insert(name) }
        }
        return out
    }

    func withTopicName(_ o: KafkaObject) -> KafkaObject {
        guard !topicNames.isEmpty, case .uuid(let id)? = o["TopicId"],
            o["Name"] == nil, o["Topic"] == nil, o["TopicName"] == nil, let name = topicNames[id]
        else { return o }
        var copy = o
        if let i = copy.fields.firstIndex(where: { $0.name == "TopicId" }) {
            copy.fields.insert(KafkaObject.Field(name: "TopicName", value: .string(name)), at: i + 1)
        }
        return copy
    }

    /// A `records` field as a consumer sees it: every record of every complete batch.
    public static func decodedRecords(_ buffer: ByteBuffer) -> KafkaValue {
        let set: KafkaRecordSet
        do {
            set = try KafkaRecords.decode(buffer, verifyCRC: false)
        } catch {
            return .object(KafkaObject([("undecodable", .string(error.description)), ("bytes", .bytes(buffer))]))
        }
        var out: [KafkaValue] = []
        for batch in set.batches {
            let logAppend = batch.timestampType == .logAppendTime
            for r in batch.records {
                var o = KafkaObject()
                o.append("offset", .int(r.offset))
                if logAppend {
                    o.append("logAppendTime", .int(batch.maxTimestamp))
                } else {
                    o.append("timestamp", .int(r.timestamp))
                }
                o.append("key", r.key.map { .bytes($0) } ?? .null)
                o.append("value", r.value.map { .bytes($0) } ?? .null)
                o.append(
                    "headers",
                    .array(
                        r.headers.map { h in
                            .object(KafkaObject([("key", .string(h.key)), ("value", h.value.map { .bytes($0) } ?? .null)]))
                        }))
                if batch.isControl, let c = KafkaControlRecord(r) {
                    o.append("control", .string(c.typeName))
                }
                out.append(.object(o))
            }
        }
        return .array(out)
    }

    /// Topic names by id from any decoded message: every object that carries both a non-zero
    /// `TopicId` and a topic name (Metadata, CreateTopics, DescribeTopicPartitions answers).
    public static func collectTopicNames(_ value: KafkaValue, into names: inout [KafkaUUID: String]) {
        switch value {
        case .object(let o):
            if case .uuid(let id)? = o["TopicId"], id != .zero,
                let name = (o["Name"] ?? o["Topic"] ?? o["TopicName"])?.stringValue, !name.isEmpty
            {
                names[id] = name
            }
            for f in o.fields {
                switch f.value {
                case .object, .array: collectTopicNames(f.value, into: &names)
                default: continue
                }
            }
        case .array(let a):
            for e in a { collectTopicNames(e, into: &names) }
        default:
            return
        }
    }
}
