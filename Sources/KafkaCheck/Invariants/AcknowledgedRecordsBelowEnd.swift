/// I6: after a ProduceResponse assigns base B to n records, later ListOffsets LATEST answers and
/// Fetch high watermarks for the partition are >= B + n.
///
/// "Later" means requests sent after the ProduceResponse was captured. Only acknowledgements that
/// promise the high watermark count: acks=-1 (all), or acks=1 on a partition Metadata shows with a
/// single replica (then the leader's log end is the high watermark). ListOffsets with read_committed
/// answers the last stable offset and is not checked.
public final class AcknowledgedRecordsBelowEnd: Invariant {
    /// `I6` in reports and `--only`/`--skip`: acknowledged records are below the end offset.
    public let id = InvariantID(6)
    private var acknowledged = TimedMaximum()
    /// A fresh I6 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I6 (acknowledged records are below the end offset).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let now = exchange.requestTimeNs
        var out: [Finding] = []
        if let fetch = exchange.fetch {
            for p in fetch.partitions where p.errorCode == 0 && p.highWatermark >= 0 {
                if let ack = acknowledged.value(p.partition, before: now), p.highWatermark < ack.value {
                    out.append(finding(exchange, p.partition, "Fetch high watermark", p.highWatermark, ack))
                }
            }
        }
        for a in exchange.listOffsetsAnswers
        where a.requestedTimestamp == ListOffsetsAnswer.latest && a.errorCode == 0 && a.isolationLevel == 0 && a.offset >= 0 {
            if let ack = acknowledged.value(a.partition, before: now), a.offset < ack.value {
                out.append(finding(exchange, a.partition, "ListOffsets LATEST answer", a.offset, ack))
            }
        }
        if let t = exchange.responseTimeNs {
            for p in exchange.produced {
                guard let end = p.endOffset else { continue }
                let promises = p.acks == -1 || (p.acks == 1 && context.model.replicaCounts[p.partition] == 1)
                if promises { acknowledged.add(p.partition, end, knownAt: t, by: exchange.reference, now: now) }
            }
        }
        return out
    }

    private func finding(
        _ exchange: ExchangeContext, _ tp: TopicPartition, _ what: String, _ value: Int64, _ ack: TimedMaximum.Entry
    ) -> Finding {
        var details = tp.details
        details["answered"] = String(value)
        details["acknowledgedEnd"] = String(ack.value)
        return Finding(
            id,
            "The \(what) for \(tp) was \(value), below \(ack.value), the end of records a ProduceResponse had already acknowledged.",
            exchanges: [exchange.reference, ack.by], details: details)
    }
}
