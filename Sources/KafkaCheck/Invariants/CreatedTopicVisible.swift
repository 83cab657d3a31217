import KafkaProtocol

/// I18: after CreateTopics succeeds, Metadata does not answer UNKNOWN_TOPIC_OR_PARTITION for that
/// topic.
///
/// Topics created without error (and not validate-only) are remembered with the time the
/// CreateTopics response was captured; a Metadata request sent after that which answers error 3 for
/// the topic is a finding. A successful DeleteTopics forgets the topic.
public final class CreatedTopicVisible: Invariant {
    public let id = InvariantID(18)
    private var created: [String: (at: UInt64, by: ExchangeReference)] = [:]
    public init() {}

    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        switch exchange.apiKey {
        case 19:
            guard let req = exchange.requestBody(CreateTopicsRequest.self), !req.validateOnly,
                let resp = exchange.responseBody(CreateTopicsResponse.self), let t = exchange.responseTimeNs
            else { return [] }
            for topic in resp.topics where topic.errorCode == 0 { created[topic.name] = (t, exchange.reference) }
        case 20:
            guard let resp = exchange.responseBody(DeleteTopicsResponse.self) else { return [] }
            for r in resp.responses where r.errorCode == 0 {
                if let name = r.name ?? (r.topicId != .zero ? context.model.topicNames[r.topicId] : nil) {
                    created[name] = nil
                }
            }
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
