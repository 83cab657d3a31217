import KafkaProtocol

/// One partition of a ListOffsets exchange: what was asked and what came back.
public struct ListOffsetsAnswer: Sendable {
    /// The topic and partition asked about.
    public var partition: TopicPartition
    /// The requested timestamp: -1 LATEST, -2 EARLIEST, -3 MAX_TIMESTAMP, >= 0 a time in ms.
    public var requestedTimestamp: Int64
    /// 0 read_uncommitted, 1 read_committed (KIP-98; v2+, 0 before).
    public var isolationLevel: Int8
    /// The partition's error code in the response.
    public var errorCode: Int16
    /// The answered offset (v0: the first of OldStyleOffsets, -1 when none).
    public var offset: Int64
    /// The answered timestamp (-1 before v1).
    public var timestamp: Int64

    /// ListOffsets' LATEST: the high watermark (or, read_committed, the last stable offset).
    public static let latest: Int64 = -1
    /// ListOffsets' EARLIEST: the log start offset.
    public static let earliest: Int64 = -2
}

extension ExchangeContext {
    /// The partitions of a ListOffsets exchange with a response; empty for anything else.
    public var listOffsetsAnswers: [ListOffsetsAnswer] {
        guard apiKey == 2, let req = requestBody(ListOffsetsRequest.self), let resp = responseBody(ListOffsetsResponse.self)
        else { return [] }
        var asked: [TopicPartition: Int64] = [:]
        for t in req.topics {
            for p in t.partitions { asked[TopicPartition(t.name, p.partitionIndex)] = p.timestamp }
        }
        let isolation = apiVersion >= 2 ? req.isolationLevel : 0
        var out: [ListOffsetsAnswer] = []
        for t in resp.topics {
            for p in t.partitions {
                let tp = TopicPartition(t.name, p.partitionIndex)
                guard let ts = asked[tp] else { continue }
                let offset = apiVersion == 0 ? (p.oldStyleOffsets.first ?? -1) : p.offset
                out.append(
                    ListOffsetsAnswer(
                        partition: tp, requestedTimestamp: ts, isolationLevel: isolation, errorCode: p.errorCode,
                        offset: offset, timestamp: apiVersion == 0 ? -1 : p.timestamp))
            }
        }
        return out
    }

    /// Every non-zero `ErrorCode` anywhere in the response (from the rendered response).
    public var responseErrorCodes: Set<Int16> {
        guard let value = responseValue else { return [] }
        var out: Set<Int16> = []
        Self.collectErrors(value, into: &out)
        return out
    }

    private static func collectErrors(_ v: KafkaValue, into out: inout Set<Int16>) {
        switch v {
        case .object(let o):
            for f in o.fields {
                if f.name == "ErrorCode", case .int(let c) = f.value {
                    if c != 0 { out.insert(Int16(truncatingIfNeeded: c)) }
                } else {
                    collectErrors(f.value, into: &out)
                }
            }
        case .array(let a):
            for e in a { collectErrors(e, into: &out) }
        default:
            break
        }
    }
}

/// A non-zero error code somewhere in a response, with where it is and the error message beside it.
public struct ResponseError: Hashable, Sendable {
    /// The error code.
    public var code: Int16
    /// Field path from the root with the entry's key when it has one: `Topics[t].Partitions[0]`
    /// (empty for the root).
    public var path: String
    /// The sibling `ErrorMessage` when the version has that field (`.null` when null), else nil.
    public var message: KafkaValue?
}

extension ExchangeContext {
    /// Every non-zero `ErrorCode` in the rendered response with its place and error message, in order.
    static func responseErrors(_ value: KafkaValue?) -> [ResponseError] {
        guard let value else { return [] }
        var out: [ResponseError] = []
        var path: [(field: String, entry: KafkaValue?)] = []
        collectErrors(value, path: &path, into: &out)
        return out
    }

    /// Walks the tree; the path (field names, and the array entry under each) is turned into text
    /// only where an error is found, so large answers without errors cost no strings.
    private static func collectErrors(
        _ v: KafkaValue, path: inout [(field: String, entry: KafkaValue?)], into out: inout [ResponseError]
    ) {
        guard case .object(let o) = v else { return }
        if case .int(let c)? = o["ErrorCode"], c != 0 {
            let text = path.map { p in p.entry.map { "\(p.field)[\(entryLabel($0))]" } ?? p.field }.joined(separator: ".")
            out.append(ResponseError(code: Int16(truncatingIfNeeded: c), path: text, message: o["ErrorMessage"]))
        }
        for f in o.fields {
            switch f.value {
            case .array(let a):
                for e in a {
                    guard case .object = e else { break }
                    path.append((f.name, e))
                    collectErrors(e, path: &path, into: &out)
                    path.removeLast()
                }
            case .object:
                path.append((f.name, nil))
                collectErrors(f.value, path: &path, into: &out)
                path.removeLast()
            default:
                break
            }
        }
    }

    /// A short label for an array entry: its name, topic, group or partition index when it has one.
    private static func entryLabel(_ e: KafkaValue) -> String {
        for key in ["Name", "Topic", "TopicName", "GroupId", "TransactionalId", "ResourceName", "PartitionIndex", "Partition", "Index"] {
            switch e[key] {
            case .string(let s)?: return s
            case .int(let i)?: return String(i)
            default: continue
            }
        }
        if case .uuid(let u)? = e["TopicId"] { return u.description }
        return "…"
    }
}

extension KafkaErrorCode {
    /// `OFFSET_OUT_OF_RANGE (1)`.
    static func describe(_ code: Int16) -> String { "\(name(code)) (\(code))" }
}
