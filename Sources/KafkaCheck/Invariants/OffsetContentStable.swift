/// I4: every Fetch that returns (topic, partition, offset) returns identical content.
///
/// The model keeps the digest of the first content seen at each offset (produced or fetched) and
/// compares every later fetch of that offset with what the first fetch returned.
public final class OffsetContentStable: Invariant {
    /// `I4` in reports and `--only`/`--skip`: an offset always returns the same record.
    public let id = InvariantID(4)
    /// A fresh I4 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I4 (an offset always returns the same record).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let list = exchange.recordMismatches.filter { $0.kind == .fetchedVsFetched }
        guard !list.isEmpty else { return [] }
        return RecordMismatchGroup.group(list).compactMap { g in
            guard let m = g.first else { return nil }
            var details = g.partition.details
            details["offsets"] = g.offsetsText
            details["offset"] = String(m.offset)
            details["earlier"] = m.expected.valueDescription
            details["now"] = m.actual.valueDescription
            return Finding(
                id,
                "Fetching \(g.partition) at offset \(g.offsetsText) returned different content than an earlier Fetch "
                    + "of the same offset: at offset \(m.offset) " + RecordMismatchGroup.difference(m.expected, m.actual) + ".",
                exchanges: g.exchanges(), details: details)
        }
    }
}
