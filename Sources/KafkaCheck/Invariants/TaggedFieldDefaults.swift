import KafkaProtocol

/// I16 (lint): tagged fields are not sent at their default values.
///
/// Kafka's own serializers omit a tagged field that holds its default; some clients mis-parse one
/// that is present anyway. Every flexible-version request and response body is walked by
/// `TaggedFieldLint`. Occurrences are aggregated per sender and schema field (one finding each, with
/// a count and the first exchanges), since a broker that does it does it on every answer.
public final class TaggedFieldDefaults: Invariant {
    /// `I16` in reports and `--only`/`--skip`: tagged fields are not sent at their defaults.
    public let id = InvariantID(16)
    private let lint = TaggedFieldLint()

    private struct Key: Hashable {
        var side: String
        var fieldPath: String
        var version: Int16
    }
    private struct Tally {
        var count = 0
        var value = ""
        var exchanges: [ExchangeReference] = []
    }
    private var tallies: [Key: Tally] = [:]
    private var order: [Key] = []
    /// A fresh I16 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I16 (tagged fields are not sent at their defaults).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        if let r = exchange.request, r.api.isFlexible(r.apiVersion) {
            tally(lint.defaults(in: r.body, version: r.apiVersion, root: r.api.name + "Request"), "client", r.apiVersion, exchange)
        }
        if let r = exchange.response, !exchange.responseIsApiVersionsFallback, r.api.isFlexible(r.apiVersion) {
            tally(lint.defaults(in: r.body, version: r.apiVersion, root: r.api.name + "Response"), "broker", r.apiVersion, exchange)
        }
        return []
    }

    private func tally(_ hits: [TaggedFieldLint.Hit], _ side: String, _ version: Int16, _ exchange: ExchangeContext) {
        for h in hits {
            let key = Key(side: side, fieldPath: h.fieldPath, version: version)
            var t = tallies[key] ?? {
                order.append(key)
                return Tally()
            }()
            t.count += 1
            if t.value.isEmpty { t.value = h.value }
            if t.exchanges.count < 3 && !t.exchanges.contains(exchange.reference) { t.exchanges.append(exchange.reference) }
            tallies[key] = t
        }
    }

    /// Reports what only the whole capture shows for I16 (tagged fields are not sent at their defaults).
    public func finish(_ context: CheckContext) -> [Finding] {
        order.compactMap { key in
            guard let t = tallies[key] else { return nil }
            let who = key.side == "client" ? "The client" : "The broker"
            return Finding(
                id,
                "\(who) sent the tagged field \(key.fieldPath) (v\(key.version)) at its default value \(t.value), \(t.count) time\(t.count == 1 ? "" : "s"); Kafka omits tagged fields that hold their default.",
                exchanges: t.exchanges,
                details: [
                    "side": key.side, "field": key.fieldPath, "version": String(key.version), "value": t.value,
                    "count": String(t.count),
                ])
        }
    }
}
