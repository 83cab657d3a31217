import KafkaProtocol

/// I18: after CreateTopics succeeds, Metadata does not answer UNKNOWN_TOPIC_OR_PARTITION for that
/// topic.
///
/// Topics created without error (and not validate-only) are remembered with the time the
/// CreateTopics response was captured; a Metadata request sent after that which answers error 3 for
/// the topic is a finding. A successful DeleteTopics forgets the topic.
public final class CreatedTopicVisible: Invariant {
    /// `I18` in reports and `--only`/`--skip`: a created topic is visible.
    public let id = InvariantID(18)
    private var created = CreatedTopics()
    /// A fresh I18 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I18 (a created topic is visible).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        created.observe(exchange, context)
        switch exchange.apiKey {
        case 3:
            guard let resp = exchange.responseBody(MetadataResponse.self) else { return [] }
            var out: [Finding] = []
            for t in resp.topics where t.errorCode == 3 {
                guard let name = t.name ?? context.model.topicNames[t.topicId], let c = created[name],
                    c.at < exchange.requestTimeNs
                else { continue }
                out.append(
                    Finding(
                        id,
                        "Metadata answered UNKNOWN_TOPIC_OR_PARTITION for topic \(name), which CreateTopics had created successfully before the request.",
                        exchanges: [exchange.reference, c.by], details: ["topic": name]))
            }
            return out
        default:
            break
        }
        return []
    }
}
