/// I12: successive ProduceResponse base offsets on a partition advance by exactly the previous
/// batch's record count.
///
/// Collects every assigned range [B, B + n) per partition and, at the end (responses from several
/// connections can be captured in any order), sorts them by base offset: an overlap is a finding
/// (except an idempotent retry answered with the same range: the same batch, by producer id, epoch,
/// base sequence and CRC), and so is a gap, unless the capture
/// explains it: a transactional batch before it (its commit marker takes an offset), records
/// produced with acks=0 or left unanswered (their offsets are unknown), or records some Fetch
/// returned in the gap that no captured Produce sent (another producer).
public final class ProduceOffsetsContiguous: Invariant {
    /// `I12` in reports and `--only`/`--skip`: produce offsets advance by the batch size.
    public let id = InvariantID(12)

    private struct Range {
        var base: Int64
        var count: Int64
        var transactional: Bool
        var producerId: Int64
        var producerEpoch: Int16
        var baseSequence: Int32
        var batchesCRC: UInt32
        var by: ExchangeReference
        var end: Int64 { base.adding(count) }
    }

    private var ranges: [TopicPartition: [Range]] = [:]
    /// Records whose offsets the capture cannot know (acks=0, no response).
    private var unplaced: [TopicPartition: Int64] = [:]
    /// A fresh I12 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I12 (produce offsets advance by the batch size).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        for p in exchange.produced {
            if p.assigned, let base = p.baseOffset {
                ranges[p.partition, default: []].append(
                    Range(
                        base: base, count: Int64(p.recordCount), transactional: p.transactional, producerId: p.producerId,
                        producerEpoch: p.producerEpoch, baseSequence: p.baseSequence, batchesCRC: p.batchesCRC,
                        by: exchange.reference))
            } else if p.errorCode == nil {
                unplaced[p.partition, default: 0] += Int64(p.recordCount)
            }
        }
        return []
    }

    /// Reports what only the whole capture shows for I12 (produce offsets advance by the batch size).
    public func finish(_ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        for tp in ranges.keys.sorted() {
            let list = (ranges[tp] ?? []).sorted { $0.base != $1.base ? $0.base < $1.base : $0.by.timeNs < $1.by.timeNs }
            var budget = unplaced[tp] ?? 0
            guard var prev = list.first else { continue }
            for r in list.dropFirst() {
                var details = tp.details
                details["previousBase"] = String(prev.base)
                details["previousCount"] = String(prev.count)
                details["base"] = String(r.base)
                details["expectedBase"] = String(prev.end)
                if r.base < prev.end {
                    // A retry re-sends the same batch (same producer id, epoch, sequence and bytes). A
                    // broker that gave two producers the same producer id (I32) makes the second one's
                    // batch look like a retry on the wire; its different content tells them apart.
                    let retry =
                        r.base == prev.base && r.count == prev.count && r.producerId >= 0 && r.producerId == prev.producerId
                        && r.producerEpoch == prev.producerEpoch && r.baseSequence == prev.baseSequence
                        && r.batchesCRC == prev.batchesCRC
                    if !retry {
                        out.append(
                            Finding(
                                id,
                                "A ProduceResponse for \(tp) assigned base offset \(r.base) to \(r.count) records, overlapping offsets \(prev.base)-\(prev.end.subtracting(1)) already assigned to \(prev.count) records.",
                                exchanges: [r.by, prev.by], details: details))
                    }
                } else if r.base > prev.end {
                    let gap = r.base.subtracting(prev.end)
                    if prev.transactional {
                        // A commit or abort marker follows a transaction's records.
                    } else if budget >= gap {
                        budget -= gap
                    } else if fetchedByOthers(context.model, tp, from: prev.end, to: r.base) {
                        // Some producer outside the capture wrote there; a Fetch saw it.
                    } else {
                        out.append(
                            Finding(
                                id,
                                "A ProduceResponse for \(tp) assigned base offset \(r.base), but the previous batch (\(prev.count) records at \(prev.base)) ended at \(prev.end): offsets \(prev.end)-\(r.base.subtracting(1)) are unaccounted for.",
                                exchanges: [r.by, prev.by], details: details))
                    }
                }
                if r.end > prev.end { prev = r }
            }
        }
        return out
    }

    private func fetchedByOthers(_ model: CaptureModel, _ tp: TopicPartition, from: Int64, to: Int64) -> Bool {
        model.firstEntry(tp, from: from, to: to) { $0.produced == nil && $0.fetched != nil } != nil
    }
}
