/// I1: a record fetched at (topic, partition, N) equals what the Produce assigned offset N carried.
///
/// The model assigns produced records their offsets (ProduceResponse base offset + the record's
/// position in that partition's request batches) and keeps a digest per offset; every fetched
/// record is compared with it, whichever of the two the capture saw first.
public final class ProducedRecordsIntact: Invariant {
    /// `I1` in reports and `--only`/`--skip`: fetched records equal what was produced.
    public let id = InvariantID(1)
    /// A fresh I1 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I1 (fetched records equal what was produced).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let list = exchange.recordMismatches.filter { $0.kind == .fetchedVsProduced }
        guard !list.isEmpty else { return [] }
        return RecordMismatchGroup.group(list).compactMap { g in
            guard let m = g.first else { return nil }
            var details = g.partition.details
            details["offsets"] = g.offsetsText
            details["offset"] = String(m.offset)
            details["produced"] = m.expected.valueDescription
            details["fetched"] = m.actual.valueDescription
            let n = g.mismatches.count
            return Finding(
                id,
                "\(n == 1 ? "A record" : "\(n) records") of \(g.partition) fetched at offset \(g.offsetsText) "
                    + "differ\(n == 1 ? "s" : "") from what was produced there: at offset \(m.offset) "
                    + RecordMismatchGroup.difference(m.expected, m.actual) + ".",
                exchanges: g.exchanges(), details: details)
        }
    }
}
