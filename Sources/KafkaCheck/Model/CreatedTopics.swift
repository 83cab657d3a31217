import KafkaProtocol

/// Topics CreateTopics created without error (not validate-only) and DeleteTopics has not deleted
/// since, with when the creation was answered and by which exchange: what I18 and I26 hold Metadata to.
struct CreatedTopics {
    private(set) var topics: [String: (at: UInt64, by: ExchangeReference)] = [:]

    /// Learns from CreateTopics (19) and DeleteTopics (20) exchanges; ignores the rest.
    mutating func observe(_ exchange: ExchangeContext, _ context: CheckContext) {
        switch exchange.apiKey {
        case 19:
            guard let req = exchange.requestBody(CreateTopicsRequest.self), !req.validateOnly,
                let resp = exchange.responseBody(CreateTopicsResponse.self), let t = exchange.responseTimeNs
            else { return }
            for topic in resp.topics where topic.errorCode == 0 { topics[topic.name] = (t, exchange.reference) }
        case 20:
            guard let resp = exchange.responseBody(DeleteTopicsResponse.self) else { return }
            for r in resp.responses where r.errorCode == 0 {
                if let name = r.name ?? (r.topicId != .zero ? context.model.topicNames[r.topicId] : nil) { topics[name] = nil }
            }
        default:
            return
        }
    }

    subscript(name: String) -> (at: UInt64, by: ExchangeReference)? { topics[name] }
}
