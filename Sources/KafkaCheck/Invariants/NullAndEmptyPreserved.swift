/// I10: null and empty keys and values come back as they were produced.
///
/// Of the I1 comparisons (fetched record against the produced one at the same offset), those where
/// the key or value changed between null, empty and non-empty.
public final class NullAndEmptyPreserved: Invariant {
    /// `I10` in reports and `--only`/`--skip`: null and empty stay distinct.
    public let id = InvariantID(10)
    /// A fresh I10 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I10 (null and empty stay distinct).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let list = exchange.recordMismatches.filter {
            $0.kind == .fetchedVsProduced
                && ($0.expected.valuePresence != $0.actual.valuePresence || $0.expected.keyPresence != $0.actual.keyPresence)
        }
        guard !list.isEmpty else { return [] }
        return RecordMismatchGroup.group(list).compactMap { g in
            guard let m = g.first else { return nil }
            var what: [String] = []
            if m.expected.valuePresence != m.actual.valuePresence {
                what.append("value produced \(Self.word(m.expected.valuePresence)) came back \(Self.word(m.actual.valuePresence))")
            }
            if m.expected.keyPresence != m.actual.keyPresence {
                what.append("key produced \(Self.word(m.expected.keyPresence)) came back \(Self.word(m.actual.keyPresence))")
            }
            var details = g.partition.details
            details["offsets"] = g.offsetsText
            details["offset"] = String(m.offset)
            details["producedValue"] = m.expected.valuePresence.rawValue
            details["fetchedValue"] = m.actual.valuePresence.rawValue
            details["producedKey"] = m.expected.keyPresence.rawValue
            details["fetchedKey"] = m.actual.keyPresence.rawValue
            return Finding(
                id,
                "At offset \(m.offset) of \(g.partition) the \(what.joined(separator: " and the "))"
                    + (g.mismatches.count > 1 ? " (offsets \(g.offsetsText))." : "."),
                exchanges: g.exchanges(), details: details)
        }
    }

    static func word(_ p: RecordDigest.Presence) -> String {
        switch p {
        case .null: return "null"
        case .empty: return "empty"
        case .bytes: return "with bytes"
        }
    }
}
