import KafkaProtocol

/// One partition of a ListOffsets exchange: what was asked and what came back.
public struct ListOffsetsAnswer: Sendable {
    public var partition: TopicPartition
    /// The requested timestamp: -1 LATEST, -2 EARLIEST, -3 MAX_TIMESTAMP, >= 0 a time in ms.
    public var requestedTimestamp: Int64
    public var isolationLevel: Int8
    public var errorCode: Int16
    /// The answered offset (v0: the first of OldStyleOffsets, -1 when none).
    public var offset: Int64
    /// The answered timestamp (-1 before v1).
    public var timestamp: Int64

    public static let latest: Int64 = -1
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

    /// Every non-zero `ErrorCode` anywhere in the response (renders the response; use sparingly).
    public var responseErrorCodes: Set<Int16> {
        guard let r = response else { return [] }
        var out: Set<Int16> = []
        Self.collectErrors(r.body.kafkaValue(version: r.apiVersion), into: &out)
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

extension KafkaErrorCode {
    /// `OFFSET_OUT_OF_RANGE (1)`.
    static func describe(_ code: Int16) -> String { "\(name(code)) (\(code))" }
}
