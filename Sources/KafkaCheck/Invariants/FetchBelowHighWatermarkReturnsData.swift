/// I2: a Fetch at offset F below the known high watermark that answers without error returns at
/// least one record at offset >= F.
///
/// The known high watermark is the larger of the response's and the largest one any earlier Fetch
/// response reported before this request was sent (for read_committed, the response's last stable
/// offset). Exempt: partitions after record data of earlier partitions in the same response (the
/// response size limit), a batch cut by the size limit, redirects to another replica, diverging epochs.
public final class FetchBelowHighWatermarkReturnsData: Invariant {
    /// `I2` in reports and `--only`/`--skip`: a fetch below the high watermark returns data.
    public let id = InvariantID(2)
    private var known = TimedMaximum()
    /// A fresh I2 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I2 (a fetch below the high watermark returns data).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard let fetch = exchange.fetch else { return [] }
        var out: [Finding] = []
        for p in fetch.partitions {
            defer {
                if p.errorCode == 0 && p.highWatermark >= 0, let t = exchange.responseTimeNs {
                    known.add(p.partition, p.highWatermark, knownAt: t, by: exchange.reference, now: exchange.requestTimeNs)
                }
            }
            guard p.errorCode == 0, let f = p.fetchOffset, f >= 0 else { continue }
            guard p.preferredReadReplica < 0, !p.hasDivergingEpoch, p.recordBytesBefore == 0 else { continue }
            if p.logStartOffset >= 0 && f < p.logStartOffset { continue }
            let earlier = known.value(p.partition, before: exchange.requestTimeNs)
            var end = max(p.highWatermark, earlier?.value ?? -1)
            var endSource = "high watermark"
            if fetch.isolationLevel == 1 && p.lastStableOffset >= 0 {
                end = p.lastStableOffset
                endSource = "last stable offset"
            }
            guard f < end else { continue }
            if case .failure? = p.records { continue }  // I11 reports it
            let batches = p.batches
            if batches.contains(where: { $0.lastOffset >= f }) { continue }
            if batches.isEmpty, case .success(let set)? = p.records, set.truncatedTailBytes > 0 { continue }
            var exchanges = [exchange.reference]
            if let e = earlier, e.value > p.highWatermark, e.by != exchange.reference { exchanges.append(e.by) }
            var details = p.partition.details
            details["fetchOffset"] = String(f)
            details["highWatermark"] = String(p.highWatermark)
            details["knownEnd"] = String(end)
            let what =
                batches.isEmpty
                ? "returned no records"
                : "returned only records before it (up to offset \(batches.map(\.lastOffset).max() ?? -1))"
            out.append(
                Finding(
                    id,
                    "Fetch of \(p.partition) at offset \(f) answered without error but \(what), although the \(endSource) was \(end).",
                    exchanges: exchanges, details: details))
        }
        return out
    }
}
