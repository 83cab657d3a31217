import KafkaProtocol

/// I7: ListOffsets LATEST equals the Fetch high watermark (the last stable offset for
/// read_committed), and EARLIEST the log start offset, when nothing was produced in between.
///
/// Each ListOffsets answer is compared with the latest Fetch response for the partition and vice
/// versa. "Nothing produced in between" means no Produce to the partition was in flight (request sent
/// to response captured) at any time between the first exchange's request and the second's
/// response; since later Produce requests may still overlap, a disagreement is held until the
/// capture has moved past the second response (or ends).
public final class ListOffsetsAgreesWithFetch: Invariant {
    /// `I7` in reports and `--only`/`--skip`: ListOffsets agrees with Fetch.
    public let id = InvariantID(7)

    private struct FetchSighting {
        var highWatermark: Int64
        var lastStableOffset: Int64
        var logStartOffset: Int64
        var requestTime: UInt64
        var by: ExchangeReference
    }
    private struct OffsetsSighting {
        var offset: Int64
        var isolationLevel: Int8
        var requestTime: UInt64
        var by: ExchangeReference
    }
    private struct Candidate {
        var finding: Finding
        var windowEnd: UInt64
    }

    private var fetches: [TopicPartition: FetchSighting] = [:]
    private var latest: [TopicPartition: OffsetsSighting] = [:]
    private var earliest: [TopicPartition: OffsetsSighting] = [:]
    /// Latest end of a Produce (or DeleteRecords) interval per partition, among those seen so far.
    private var activityEnd: [TopicPartition: UInt64] = [:]
    private var candidates: [TopicPartition: [Candidate]] = [:]
    /// A fresh I7 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I7 (ListOffsets agrees with Fetch).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let now = exchange.requestTimeNs
        let out = flush(before: now)
        let end = exchange.responseTimeNs ?? now
        // Produce and DeleteRecords change the offsets; note their intervals and drop disagreements they overlap.
        var touched: [TopicPartition] = exchange.produced.map(\.partition)
        if exchange.apiKey == 21, let req = exchange.requestBody(DeleteRecordsRequest.self) {
            for t in req.topics { for p in t.partitions { touched.append(TopicPartition(t.name, p.partitionIndex)) } }
        }
        for tp in touched {
            // acks=0 writes land right after the request; an unanswered Produce may land any time.
            let activity = exchange.responseTimeNs ?? (exchange.exchange.missingResponse == .notExpected ? now : .max)
            activityEnd[tp] = max(activityEnd[tp] ?? 0, activity)
            candidates[tp]?.removeAll { exchange.requestTimeNs <= $0.windowEnd }
        }
        if let fetch = exchange.fetch {
            for p in fetch.partitions where p.errorCode == 0 && p.highWatermark >= 0 {
                let sighting = FetchSighting(
                    highWatermark: p.highWatermark, lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset,
                    requestTime: now, by: exchange.reference)
                if let l = latest[p.partition] { compare(latest: l, fetch: sighting, p.partition, end: end) }
                if let e = earliest[p.partition] { compare(earliest: e, fetch: sighting, p.partition, end: end) }
                fetches[p.partition] = sighting
            }
        }
        for a in exchange.listOffsetsAnswers where a.errorCode == 0 && a.offset >= 0 {
            let sighting = OffsetsSighting(
                offset: a.offset, isolationLevel: a.isolationLevel, requestTime: now, by: exchange.reference)
            if a.requestedTimestamp == ListOffsetsAnswer.latest {
                if let f = fetches[a.partition] { compare(latest: sighting, fetch: f, a.partition, end: end) }
                latest[a.partition] = sighting
            } else if a.requestedTimestamp == ListOffsetsAnswer.earliest {
                if let f = fetches[a.partition] { compare(earliest: sighting, fetch: f, a.partition, end: end) }
                earliest[a.partition] = sighting
            }
        }
        return out
    }

    /// Reports what only the whole capture shows for I7 (ListOffsets agrees with Fetch).
    public func finish(_ context: CheckContext) -> [Finding] {
        flush(before: .max)
    }

    private func quiet(_ tp: TopicPartition, since start: UInt64) -> Bool {
        (activityEnd[tp] ?? 0) < start
    }

    private func compare(latest l: OffsetsSighting, fetch f: FetchSighting, _ tp: TopicPartition, end: UInt64) {
        let start = min(l.requestTime, f.requestTime)
        guard quiet(tp, since: start) else { return }
        let committed = l.isolationLevel == 1
        let expected = committed ? f.lastStableOffset : f.highWatermark
        guard expected >= 0, l.offset != expected else { return }
        var details = tp.details
        details["listOffsets"] = String(l.offset)
        details[committed ? "lastStableOffset" : "highWatermark"] = String(expected)
        details["timestamp"] = "LATEST"
        let what = committed ? "last stable offset" : "high watermark"
        let finding = Finding(
            id,
            "ListOffsets LATEST for \(tp) answered \(l.offset), but the Fetch \(what) was \(expected) and nothing was produced to the partition in between.",
            exchanges: ordered(l.by, f.by), details: details)
        candidates[tp, default: []].append(Candidate(finding: finding, windowEnd: end))
    }

    private func compare(earliest e: OffsetsSighting, fetch f: FetchSighting, _ tp: TopicPartition, end: UInt64) {
        let start = min(e.requestTime, f.requestTime)
        guard quiet(tp, since: start), f.logStartOffset >= 0, e.offset != f.logStartOffset else { return }
        var details = tp.details
        details["listOffsets"] = String(e.offset)
        details["logStartOffset"] = String(f.logStartOffset)
        details["timestamp"] = "EARLIEST"
        let finding = Finding(
            id,
            "ListOffsets EARLIEST for \(tp) answered \(e.offset), but the Fetch log start offset was \(f.logStartOffset).",
            exchanges: ordered(e.by, f.by), details: details)
        candidates[tp, default: []].append(Candidate(finding: finding, windowEnd: end))
    }

    private func ordered(_ listOffsets: ExchangeReference, _ fetch: ExchangeReference) -> [ExchangeReference] {
        [listOffsets, fetch]
    }

    /// Reports the disagreements no later Produce can overlap any more.
    private func flush(before time: UInt64) -> [Finding] {
        var out: [Finding] = []
        for (tp, list) in candidates {
            let ready = list.filter { $0.windowEnd < time }
            guard !ready.isEmpty else { continue }
            out += ready.map(\.finding)
            let rest = list.filter { $0.windowEnd >= time }
            candidates[tp] = rest.isEmpty ? nil : rest
        }
        return out.sorted { ($0.exchanges.first?.timeNs ?? 0) < ($1.exchanges.first?.timeNs ?? 0) }
    }
}
