/// I8: a Fetch beyond the high watermark (or below the log start offset) answers OFFSET_OUT_OF_RANGE.
///
/// Checked on error-free response partitions whose fetch offset is known. Kafka compares with the log
/// end offset, which equals the high watermark when the partition has one replica; for partitions
/// Metadata shows with more replicas, a fetch between the two is legal and only records returned at
/// or beyond the high watermark are flagged.
public final class FetchOutOfRangeIsError: Invariant {
    /// `I8` in reports and `--only`/`--skip`: fetching outside the log is an error.
    public let id = InvariantID(8)
    /// A fresh I8 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I8 (fetching outside the log is an error).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard let fetch = exchange.fetch else { return [] }
        var out: [Finding] = []
        for p in fetch.partitions where p.errorCode == 0 && p.highWatermark >= 0 {
            guard let f = p.fetchOffset else { continue }
            var details = p.partition.details
            details["fetchOffset"] = String(f)
            details["highWatermark"] = String(p.highWatermark)
            details["logStartOffset"] = String(p.logStartOffset)
            details["errorCode"] = String(p.errorCode)
            if f > p.highWatermark {
                let replicas = context.model.replicaCounts[p.partition] ?? 1
                if replicas > 1 && !p.batches.contains(where: { $0.lastOffset >= p.highWatermark }) { continue }
                out.append(
                    Finding(
                        id,
                        "Fetch of \(p.partition) at offset \(f), beyond the high watermark \(p.highWatermark), was answered with NONE instead of OFFSET_OUT_OF_RANGE.",
                        exchanges: [exchange.reference], details: details))
            } else if p.logStartOffset >= 0 && f < p.logStartOffset {
                out.append(
                    Finding(
                        id,
                        "Fetch of \(p.partition) at offset \(f), below the log start offset \(p.logStartOffset), was answered with NONE instead of OFFSET_OUT_OF_RANGE.",
                        exchanges: [exchange.reference], details: details))
            }
        }
        return out
    }
}
