import KafkaProtocol

/// I3: the first batch a Fetch returns covers the fetch offset F (base <= F <= last offset), or
/// starts after F only across offsets the capture knows are absent.
///
/// Known-absent offsets are those between consecutive batches of some Fetch response (compaction,
/// aborted data removed) and those below the response's log start offset. A gap over offsets the
/// capture saw produced is never explained. Also flagged: a first batch that covers F but lacks the
/// record at F although the capture saw F produced.
public final class FirstBatchCoversFetchOffset: Invariant {
    /// `I3` in reports and `--only`/`--skip`: the first batch covers the fetch offset.
    public let id = InvariantID(3)
    /// Offset ranges [from, to) seen missing between batches of one response.
    private var gaps: [TopicPartition: [(from: Int64, to: Int64)]] = [:]
    /// A fresh I3 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I3 (the first batch covers the fetch offset).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard let fetch = exchange.fetch else { return [] }
        var out: [Finding] = []
        for p in fetch.partitions where p.errorCode == 0 {
            let batches = p.batches
            guard let f = p.fetchOffset, let first = batches.first else {
                recordGaps(p.partition, batches)
                continue
            }
            var details = p.partition.details
            details["fetchOffset"] = String(f)
            details["batchBase"] = String(first.baseOffset)
            details["batchLast"] = String(first.lastOffset)
            if first.lastOffset < f {
                out.append(
                    Finding(
                        id,
                        "Fetch of \(p.partition) at offset \(f) returned first a batch covering offsets \(first.baseOffset)-\(first.lastOffset), which ends before the fetch offset.",
                        exchanges: [exchange.reference], details: details))
            } else if first.baseOffset > f {
                if !explained(p.partition, from: f, to: first.baseOffset, logStart: p.logStartOffset) {
                    var message =
                        "Fetch of \(p.partition) at offset \(f) returned first a batch starting at \(first.baseOffset), skipping offsets \(f)-\(first.baseOffset.subtracting(1)) that the capture does not know to be absent"
                    var exchanges = [exchange.reference]
                    if let (offset, by) = producedBetween(context.model, p.partition, f, first.baseOffset) {
                        message += "; offset \(offset) was produced"
                        if let by { exchanges.append(by) }
                    }
                    out.append(Finding(id, message + ".", exchanges: exchanges, details: details))
                }
            } else if let entry = context.model.entry(p.partition, f), entry.produced != nil,
                !first.records.contains(where: { $0.offset == f }), !first.isControl
            {
                var exchanges = [exchange.reference]
                if let by = context.model.producedBy(entry) { exchanges.append(by) }
                out.append(
                    Finding(
                        id,
                        "Fetch of \(p.partition) at offset \(f) returned a batch covering it (\(first.baseOffset)-\(first.lastOffset)) without the record at \(f), which was produced.",
                        exchanges: exchanges, details: details))
            }
            recordGaps(p.partition, batches)
        }
        return out
    }

    private func recordGaps(_ tp: TopicPartition, _ batches: [KafkaRecordBatch]) {
        guard batches.count > 1 else { return }
        for (a, b) in zip(batches, batches.dropFirst()) where b.baseOffset > a.lastOffset.adding(1) {
            gaps[tp, default: []].append((a.lastOffset.adding(1), b.baseOffset))
            if (gaps[tp]?.count ?? 0) > 10_000 { gaps[tp]?.removeFirst() }
        }
    }

    private func explained(_ tp: TopicPartition, from: Int64, to: Int64, logStart: Int64) -> Bool {
        if logStart >= to { return true }
        var start = max(from, logStart)
        // Known gaps may chain; cover [start, to) with them.
        let known = (gaps[tp] ?? []).sorted { $0.from < $1.from }
        for g in known where g.from <= start && g.to > start {
            start = g.to
            if start >= to { return true }
        }
        return start >= to
    }

    private func producedBetween(_ model: CaptureModel, _ tp: TopicPartition, _ from: Int64, _ to: Int64)
        -> (Int64, ExchangeReference?)?
    {
        model.firstEntry(tp, from: from, to: to) { $0.produced != nil }.map { ($0.offset, model.producedBy($0.entry)) }
    }
}
