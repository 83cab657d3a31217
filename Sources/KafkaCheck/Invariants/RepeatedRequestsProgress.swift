import KafkaProtocol

/// I28: a client does not repeat the same request many times without progress.
///
/// Kafka clients retry retriable errors with backoff (`retry.backoff.ms`, KIP-580's exponential
/// backoff) and give up after `delivery.timeout.ms` / `default.api.timeout.ms`; a metadata refresh
/// that keeps coming back without the topic it waits for is retried until `max.block.ms`. A session
/// where the same request (same client id, API and asked-about topics, groups or resources) is
/// answered the same unhelpful way `stuckRepeats` times in a row (default 20) is stuck: the client
/// loops, or the broker keeps giving an answer the client cannot use. "Unhelpful" is an answer with
/// error codes (the same codes at the same places every time) or an empty answer to a request that
/// named something. An answer without errors that answers what was asked is progress and ends the
/// streak. Each streak is one finding naming what never changed, with its first and last exchange.
public final class RepeatedRequestsProgress: Invariant {
    /// `I28` in reports and `--only`/`--skip`: clients make progress.
    public let id = InvariantID(28)
    private struct Streak {
        var answer: String
        var count: Int
        var first: ExchangeReference
        var last: ExchangeReference
        var asked: String
    }
    private var streaks: [String: Streak] = [:]
    /// Streaks kept before pruning (bounded memory).
    let maxStreaks: Int

    /// A fresh I28 checker; it keeps state for one capture, so every check makes its own.
    public init() { maxStreaks = 10_000 }

    init(maxStreaks: Int) { self.maxStreaks = maxStreaks }

    /// Checks one exchange, in request order, for I28 (clients make progress).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.response != nil, let request = exchange.requestValue else { return [] }
        let threshold = context.configuration.stuckRepeats
        let client = exchange.request?.header.clientId ?? "connection \(exchange.exchange.connectionId)"
        let asked = Self.asked(exchange, request, context.model)
        let key = "\(client)\u{0}\(exchange.apiKey)\u{0}\(asked)"
        let answer = Self.unhelpfulAnswer(exchange)
        var out: [Finding] = []
        if answer != nil, streaks[key]?.answer == answer {
            streaks[key]?.count += 1
            streaks[key]?.last = exchange.reference
            return []
        }
        if let s = streaks.removeValue(forKey: key), s.count >= threshold { out.append(finding(s, client: client)) }
        if let answer {
            // Bounded memory: with many distinct failing requests, only streaks that have repeated are
            // kept; if even those are too many, they are reported now (those past the threshold) and
            // forgotten. Each prune at least halves the table, so the work stays linear.
            if streaks.count >= maxStreaks {
                streaks = streaks.filter { $0.value.count > 1 }
                if streaks.count >= maxStreaks / 2 {
                    out += report(streaks, threshold: threshold)
                    streaks.removeAll()
                }
            }
            streaks[key] = Streak(answer: answer, count: 1, first: exchange.reference, last: exchange.reference, asked: asked)
        }
        return out
    }

    /// Reports what only the whole capture shows for I28 (clients make progress).
    public func finish(_ context: CheckContext) -> [Finding] {
        let out = report(streaks, threshold: context.configuration.stuckRepeats)
        streaks = [:]
        return out
    }

    private func report(_ list: [String: Streak], threshold: Int) -> [Finding] {
        var out: [Finding] = []
        for (key, s) in list.sorted(by: { $0.value.first.timeNs < $1.value.first.timeNs }) where s.count >= threshold {
            let client = String(key.split(separator: "\u{0}", omittingEmptySubsequences: false).first ?? "")
            out.append(finding(s, client: client))
        }
        return out
    }

    private func finding(_ s: Streak, client: String) -> Finding {
        let what = s.asked.isEmpty ? "" : " for \(s.asked)"
        return Finding(
            id,
            "Client \(client) sent \(s.first.apiName)\(what) \(s.count) times in a row, and every answer was the same: \(s.answer).",
            exchanges: [s.first, s.last],
            details: ["client": client, "api": s.first.apiName, "asked": s.asked, "answer": s.answer, "count": String(s.count)])
    }

    /// What the request asks about: the top-level keys of its keyed arrays (`topics a, b`), or "all".
    static func asked(_ exchange: ExchangeContext, _ request: KafkaValue, _ model: CaptureModel) -> String {
        var parts: [String] = []
        let matcher = KeyedAnswers(topicName: { model.topicName(id: $0) })
        var fields: Set<String> = []
        for p in KafkaKeyedPairing.pairings(apiKey: exchange.apiKey, version: exchange.apiVersion) {
            guard let level = p.request.first, fields.insert(level.field).inserted else { continue }
            switch request[level.field] {
            case .array(let a)?:
                parts.append(a.isEmpty ? "\(level.field) []" : a.map { matcher.key($0, level) }.sorted().joined(separator: ", "))
            case .null?:
                parts.append("all \(level.field)")
            default:
                break
            }
        }
        for name in ["GroupId", "Key", "TransactionalId"] {
            if case .string(let s)? = request[name] { parts.append("\(name) \(s)") }
        }
        return parts.joined(separator: "; ")
    }

    /// The answer's error codes and their places (sorted), or "an empty answer" when the request named
    /// something and the response's answering array is empty; nil for an answer that makes progress.
    static func unhelpfulAnswer(_ exchange: ExchangeContext) -> String? {
        let errors = exchange.responseErrors
        if !errors.isEmpty {
            let list = Set(errors.map { e in KafkaErrorCode.describe(e.code) + (e.path.isEmpty ? "" : " at \(e.path)") })
            return list.sorted().joined(separator: ", ")
        }
        guard let request = exchange.requestValue, let response = exchange.responseValue else { return nil }
        for p in KafkaKeyedPairing.pairings(apiKey: exchange.apiKey, version: exchange.apiVersion) {
            guard let rq = p.request.first, let rs = p.response.first else { continue }
            if let asked = request[rq.field]?.arrayValue, !asked.isEmpty, (response[rs.field]?.arrayValue ?? []).isEmpty {
                return "an empty answer"
            }
        }
        return nil
    }
}
