import KafkaProtocol

/// I26: Metadata answers every topic it was asked about, and a created topic appears in it.
///
/// A Metadata request that names topics gets one entry per topic: the topic, or the topic with an
/// error code (UNKNOWN_TOPIC_OR_PARTITION (3) when it does not exist, or INVALID_TOPIC_EXCEPTION,
/// TOPIC_AUTHORIZATION_FAILED...). Kafka's `KafkaApis.handleTopicMetadataRequest` builds an entry for
/// every requested topic; leaving one out silently gives the client nothing to act on, and clients
/// (the Java producer waiting in `awaitMetadata`, kafka-python's `_wait_on_metadata`) keep asking until
/// they time out. A null topic list (v1+) or an empty one (v0) asks for all topics: then a topic that
/// CreateTopics created without error (not validate-only), before the request was sent and not
/// deleted since, must be among them. On a multi-broker cluster a broker's metadata can lag the
/// controller briefly (as in I18); the finding names both exchanges so the timing can be judged.
public final class MetadataAnswersEveryTopic: Invariant {
    /// `I26` in reports and `--only`/`--skip`: Metadata answers every topic.
    public let id = InvariantID(26)
    private var created = CreatedTopics()
    /// A fresh I26 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I26 (Metadata answers every topic).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        created.observe(exchange, context)
        switch exchange.apiKey {
        case 3:
            return metadata(exchange, context)
        default:
            break
        }
        return []
    }

    private func metadata(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard let req = exchange.requestBody(MetadataRequest.self), let resp = exchange.responseBody(MetadataResponse.self)
        else { return [] }
        let model = context.model
        var answeredNames: Set<String> = []
        var answeredIds: Set<KafkaUUID> = []
        for t in resp.topics {
            if let n = t.name { answeredNames.insert(n) }
            if t.topicId != .zero { answeredIds.insert(t.topicId) }
        }
        let v = exchange.apiVersion
        let asksAll = req.topics == nil || (v == 0 && req.topics?.isEmpty == true)
        var out: [Finding] = []
        if asksAll {
            for (name, c) in created.topics.sorted(by: { $0.key < $1.key })
            where c.at < exchange.requestTimeNs && !answeredNames.contains(name) {
                out.append(
                    Finding(
                        id,
                        "Metadata v\(v) for all topics left out topic \(name), which CreateTopics had created successfully before the request.",
                        exchanges: [exchange.reference, c.by], details: ["topic": name, "request": "all topics"]))
            }
            return out
        }
        for t in req.topics ?? [] {
            let byName = t.name.map { answeredNames.contains($0) } ?? false
            let byId = v >= 10 && t.topicId != .zero && answeredIds.contains(t.topicId)
            guard !byName && !byId else { continue }
            guard let label = t.name ?? (t.topicId != .zero ? model.topicName(id: t.topicId) : nil) else { continue }
            out.append(
                Finding(
                    id,
                    "Metadata v\(v) left out topic \(label), which the request named (a topic that does not exist must come back with UNKNOWN_TOPIC_OR_PARTITION (3)).",
                    exchanges: [exchange.reference], details: ["topic": label]))
        }
        return out
    }
}
