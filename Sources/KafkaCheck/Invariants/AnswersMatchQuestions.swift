import KafkaProtocol

/// I25: every topic, partition, group or resource a request names is answered exactly once, under
/// the same key, and nothing it did not ask about is answered.
///
/// Kafka answers per entry asked (each handler builds its response from the request's entries, an
/// error code standing in for data). Which request arrays are answered by which response arrays comes
/// from the message specs (`KafkaAPIs.keyedPairings`, generated; see `KafkaKeyedPairing`), for every
/// API and version. Not findings, because the protocol allows them:
/// - a null or empty request array (all topics, all groups: Metadata, OffsetFetch, DescribeLogDirs...);
/// - entries under an answer that carries a non-zero error code of its own (it answers for them);
/// - incremental Fetch (KIP-227, session epoch > 0) answering a subset, or partitions of its session
///   the request did not repeat; share sessions (ShareFetch, ShareAcknowledge, KIP-932) likewise;
/// - DescribeTopicPartitions answering a page (its cursor, KIP-966);
/// - Metadata topics left out: I26 reports those, with the rule behind it.
public final class AnswersMatchQuestions: Invariant {
    /// `I25` in reports and `--only`/`--skip`: answers match questions.
    public let id = InvariantID(25)
    /// A fresh I25 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I25 (answers match questions).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.response != nil, !exchange.responseIsApiVersionsFallback else { return [] }
        let pairings = KafkaKeyedPairing.pairings(apiKey: exchange.apiKey, version: exchange.apiVersion)
        guard !pairings.isEmpty, let request = exchange.requestValue, let response = exchange.responseValue else { return [] }
        let model = context.model
        let matcher = KeyedAnswers(topicName: { model.topicName(id: $0) })
        var problems: [KeyedAnswers.Problem] = []
        for p in pairings { problems += matcher.compare(p, request: request, response: response) }
        problems = problems.filter { !allowed($0, exchange) }
        guard !problems.isEmpty else { return [] }
        let api = exchange.reference.apiName
        return problems.map { p in
            let what = p.path.joined(separator: " ")
            let message: String
            switch p.kind {
            case .missing: message = "The \(api) v\(exchange.apiVersion) response does not answer \(what), which the request asked about."
            case .unasked: message = "The \(api) v\(exchange.apiVersion) response answers \(what), which the request did not ask about."
            case .duplicate: message = "The \(api) v\(exchange.apiVersion) response answers \(what) more than once."
            }
            return Finding(
                id, message, exchanges: [exchange.reference],
                details: ["apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion), "key": what, "kind": "\(p.kind)"])
        }
    }

    /// The protocol's own exceptions (see the type's comment): Metadata (3) omissions are I26's,
    /// incremental Fetch (1) answers a subset or its session's partitions, DescribeTopicPartitions (75)
    /// answers a page, share sessions (78, 79) answer what changed.
    private func allowed(_ p: KeyedAnswers.Problem, _ exchange: ExchangeContext) -> Bool {
        switch exchange.apiKey {
        case 3:
            return p.kind == .missing && p.depth == 0
        case 1:
            guard exchange.apiVersion >= 7, let req = exchange.requestBody(FetchRequest.self), req.sessionEpoch > 0 else {
                return false
            }
            if p.kind == .missing { return true }
            guard p.kind == .unasked, let positions = exchange.fetch?.positions else { return false }
            return positions.keys.contains { tp in
                p.path == ["topic \(tp.topic)"] || p.path == ["topic \(tp.topic)", "partition \(tp.partition)"]
            }
        case 75:
            return p.kind == .missing
        case 78, 79:
            return p.kind != .duplicate
        default:
            return false
        }
    }
}

