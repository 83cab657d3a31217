import KafkaProtocol

/// I19: OffsetFetch returns the offset and metadata of the last successful OffsetCommit.
///
/// Per (group, topic, partition), the last OffsetCommit partition answered without error (offset and
/// metadata from the request; a null metadata is stored as "" by Kafka). An OffsetFetch sent after
/// that commit's response that returns another offset or metadata for the partition (without error)
/// is a finding. Commits whose response came after the OffsetFetch was sent are not compared.
/// TxnOffsetCommit, OffsetDelete and DeleteGroups make the committed offset unknown again.
public final class OffsetFetchReturnsLastCommit: Invariant {
    /// `I19` in reports and `--only`/`--skip`: OffsetFetch returns the last commit.
    public let id = InvariantID(19)

    private struct Key: Hashable {
        var group: String
        var partition: TopicPartition
    }
    private struct Commit {
        var offset: Int64
        var metadata: String
        var at: UInt64
        var by: ExchangeReference
    }
    private var commits: [Key: Commit] = [:]
    /// A fresh I19 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I19 (OffsetFetch returns the last commit).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let model = context.model
        let v = exchange.apiVersion
        switch exchange.apiKey {
        case 8:
            guard let req = exchange.requestBody(OffsetCommitRequest.self),
                let resp = exchange.responseBody(OffsetCommitResponse.self), let t = exchange.responseTimeNs
            else { return [] }
            var asked: [TopicPartition: OffsetCommitRequest.OffsetCommitRequestPartition] = [:]
            for topic in req.topics {
                let name = v >= 10 ? model.topicName(id: topic.topicId) : topic.name
                for p in topic.partitions { asked[TopicPartition(name, p.partitionIndex)] = p }
            }
            for topic in resp.topics {
                let name = v >= 10 ? model.topicName(id: topic.topicId) : topic.name
                for p in topic.partitions {
                    let tp = TopicPartition(name, p.partitionIndex)
                    guard let a = asked[tp] else { continue }
                    let key = Key(group: req.groupId, partition: tp)
                    if p.errorCode == 0 {
                        commits[key] = Commit(
                            offset: a.committedOffset, metadata: a.committedMetadata ?? "", at: t, by: exchange.reference)
                    }
                }
            }
        case 28:
            if let req = exchange.requestBody(TxnOffsetCommitRequest.self) {
                for topic in req.topics {
                    for p in topic.partitions { commits[Key(group: req.groupId, partition: TopicPartition(topic.name, p.partitionIndex))] = nil }
                }
            }
        case 47:
            if let req = exchange.requestBody(OffsetDeleteRequest.self) {
                for topic in req.topics {
                    for p in topic.partitions { commits[Key(group: req.groupId, partition: TopicPartition(topic.name, p.partitionIndex))] = nil }
                }
            }
        case 42:
            if let resp = exchange.responseBody(DeleteGroupsResponse.self) {
                let gone = Set(resp.results.filter { $0.errorCode == 0 }.map(\.groupId))
                commits = commits.filter { !gone.contains($0.key.group) }
            }
        case 9:
            return offsetFetch(exchange, model)
        default:
            break
        }
        return []
    }

    private func offsetFetch(_ exchange: ExchangeContext, _ model: CaptureModel) -> [Finding] {
        guard let resp = exchange.responseBody(OffsetFetchResponse.self) else { return [] }
        let v = exchange.apiVersion
        var answers: [(group: String, partition: TopicPartition, offset: Int64, metadata: String)] = []
        if v <= 7 {
            guard let req = exchange.requestBody(OffsetFetchRequest.self), resp.errorCode == 0 else { return [] }
            for t in resp.topics {
                for p in t.partitions where p.errorCode == 0 {
                    answers.append((req.groupId, TopicPartition(t.name, p.partitionIndex), p.committedOffset, p.metadata ?? ""))
                }
            }
        } else {
            for g in resp.groups where g.errorCode == 0 {
                for t in g.topics {
                    let name = v >= 10 ? model.topicName(id: t.topicId) : t.name
                    for p in t.partitions where p.errorCode == 0 {
                        answers.append((g.groupId, TopicPartition(name, p.partitionIndex), p.committedOffset, p.metadata ?? ""))
                    }
                }
            }
        }
        var out: [Finding] = []
        for a in answers {
            guard let c = commits[Key(group: a.group, partition: a.partition)], c.at < exchange.requestTimeNs else { continue }
            guard c.offset != a.offset || c.metadata != a.metadata else { continue }
            var details = a.partition.details
            details["group"] = a.group
            details["committedOffset"] = String(c.offset)
            details["fetchedOffset"] = String(a.offset)
            details["committedMetadata"] = c.metadata
            details["fetchedMetadata"] = a.metadata
            let what =
                c.offset != a.offset
                ? "offset \(a.offset), but the last successful OffsetCommit set \(c.offset)"
                : "metadata \"\(a.metadata)\", but the last successful OffsetCommit set \"\(c.metadata)\""
            out.append(
                Finding(
                    id, "OffsetFetch for group \(a.group) returned for \(a.partition) \(what).",
                    exchanges: [exchange.reference, c.by], details: details))
        }
        return out
    }
}
