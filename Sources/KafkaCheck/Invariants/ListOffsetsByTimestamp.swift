/// I9: ListOffsets for timestamp T >= 0 returns the first offset whose record timestamp is >= T,
/// or -1 when there is none, judged among the offsets the capture saw (produced or fetched) before
/// the request was sent, at or above the largest log start offset seen.
///
/// Kafka's time index finds the first batch whose max timestamp is >= T and then the first record
/// in it at or after T, which is the first record in offset order with a timestamp >= T. The answer
/// carries that record's timestamp (v1+), never the query echoed back.
public final class ListOffsetsByTimestamp: Invariant {
    /// `I9` in reports and `--only`/`--skip`: ListOffsets by timestamp finds the first record at or after it.
    public let id = InvariantID(9)
    private var logStart: [TopicPartition: Int64] = [:]
    /// A fresh I9 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I9 (ListOffsets by timestamp finds the first record at or after it).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        if let fetch = exchange.fetch {
            for p in fetch.partitions where p.errorCode == 0 && p.logStartOffset >= 0 {
                logStart[p.partition] = max(logStart[p.partition] ?? 0, p.logStartOffset)
            }
        }
        var out: [Finding] = []
        for a in exchange.listOffsetsAnswers where a.requestedTimestamp >= 0 && a.errorCode == 0 {
            let floor = logStart[a.partition] ?? 0
            let model = context.model
            var firstAtOrAfter: (offset: Int64, entry: OffsetEntry)?
            var answered: OffsetEntry?
            for (offset, entry) in model.entries(a.partition, from: floor) {
                guard let d = entry.digest, model.knownSinceNs(entry) < exchange.requestTimeNs else { continue }
                if offset == a.offset { answered = entry }
                if d.timestamp >= a.requestedTimestamp && offset < (firstAtOrAfter?.offset ?? .max) {
                    firstAtOrAfter = (offset, entry)
                }
            }
            var details = a.partition.details
            details["timestamp"] = String(a.requestedTimestamp)
            details["answered"] = String(a.offset)
            let t = a.requestedTimestamp
            if let first = firstAtOrAfter, a.offset < 0 || first.offset < a.offset {
                details["expected"] = String(first.offset)
                details["expectedTimestamp"] = String(first.entry.digest?.timestamp ?? -1)
                var exchanges = [exchange.reference]
                if let by = model.producedBy(first.entry) ?? model.firstFetchedBy(first.entry) { exchanges.append(by) }
                let answer = a.offset < 0 ? "-1 (no such record)" : "offset \(a.offset)"
                out.append(
                    Finding(
                        id,
                        "ListOffsets for \(a.partition) at timestamp \(t) answered \(answer), but offset \(first.offset) has timestamp \(first.entry.digest?.timestamp ?? -1) >= \(t).",
                        exchanges: exchanges, details: details))
            } else if a.offset >= 0, let entry = answered, let d = entry.digest, d.timestamp < t {
                details["answeredTimestamp"] = String(d.timestamp)
                var exchanges = [exchange.reference]
                if let by = model.producedBy(entry) ?? model.firstFetchedBy(entry) { exchanges.append(by) }
                out.append(
                    Finding(
                        id,
                        "ListOffsets for \(a.partition) at timestamp \(t) answered offset \(a.offset), whose record has the earlier timestamp \(d.timestamp).",
                        exchanges: exchanges, details: details))
            } else if exchange.apiVersion >= 1, a.offset >= 0, let entry = answered, let d = entry.digest, a.timestamp != d.timestamp {
                // The answer carries the found record's timestamp (ListOffsetsResponse.json: "The
                // timestamp associated with the returned offset"), not the query.
                details["answeredTimestamp"] = String(a.timestamp)
                details["recordTimestamp"] = String(d.timestamp)
                var exchanges = [exchange.reference]
                if let by = model.producedBy(entry) ?? model.firstFetchedBy(entry) { exchanges.append(by) }
                let echo = a.timestamp == t ? " (it echoed the query)" : ""
                out.append(
                    Finding(
                        id,
                        "ListOffsets for \(a.partition) at timestamp \(t) answered offset \(a.offset) with timestamp \(a.timestamp), but that record's timestamp is \(d.timestamp)\(echo).",
                        exchanges: exchanges, details: details))
            }
        }
        return out
    }
}
