/// I21: a Fetch is answered within max_wait_ms plus a margin, and promptly when data was available.
///
/// Latency is measured on the capture's monotonic clock, request frame to response frame. The
/// allowance is max_wait_ms + the response's throttle time + `--fetch-margin-ms`. "Data available"
/// means that, before the request was sent, the capture knew a high watermark (from a Fetch response,
/// or from an acknowledged Produce as in I6) above the fetch position of a partition the request
/// covers, and min_bytes <= 1; such a Fetch must be answered within `--fetch-prompt-ms` (+ throttle).
public final class FetchAnsweredInTime: Invariant {
    /// `I21` in reports and `--only`/`--skip`: fetches are answered in time.
    public let id = InvariantID(21)
    private var known = TimedMaximum()
    /// A fresh I21 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I21 (fetches are answered in time).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let now = exchange.requestTimeNs
        var out: [Finding] = []
        if let fetch = exchange.fetch, let t = exchange.responseTimeNs, t >= now {
            let latencyMs = Int64((t - now) / 1_000_000)
            let throttle = Int64(max(0, fetch.throttleTimeMs))
            let allowance = Int64(max(0, fetch.maxWaitMs)).adding(throttle).adding(context.configuration.fetchMarginMs)
            var details: [String: String] = [
                "latencyMs": String(latencyMs), "maxWaitMs": String(fetch.maxWaitMs), "throttleMs": String(throttle),
                "marginMs": String(context.configuration.fetchMarginMs),
            ]
            if latencyMs > allowance {
                out.append(
                    Finding(
                        id,
                        "Fetch #\(exchange.exchange.correlationId) on connection \(exchange.exchange.connectionId) was answered after \(latencyMs) ms, longer than max_wait_ms \(fetch.maxWaitMs)\(throttle > 0 ? " + throttle \(throttle)" : "") + margin \(context.configuration.fetchMarginMs) ms.",
                        exchanges: [exchange.reference], details: details,
                        summary: "A Fetch was answered later than max_wait_ms + throttle time + margin \(context.configuration.fetchMarginMs) ms."))
            } else if fetch.minBytes <= 1, latencyMs > context.configuration.fetchPromptMs.adding(throttle),
                let (tp, position, hw) = available(fetch, before: now)
            {
                details["topic"] = tp.topic
                details["partition"] = String(tp.partition)
                details["fetchOffset"] = String(position)
                details["knownHighWatermark"] = String(hw.value)
                details["promptMs"] = String(context.configuration.fetchPromptMs)
                out.append(
                    Finding(
                        id,
                        "Fetch #\(exchange.exchange.correlationId) on connection \(exchange.exchange.connectionId) took \(latencyMs) ms although \(tp) already had data at its fetch offset \(position) (high watermark \(hw.value)); it should have been answered within \(context.configuration.fetchPromptMs) ms.",
                        exchanges: [exchange.reference, hw.by], details: details,
                        summary: "A Fetch for \(tp) was answered later than \(context.configuration.fetchPromptMs) ms although data was already available at its fetch offset."))
            }
        }
        if let fetch = exchange.fetch, let t = exchange.responseTimeNs {
            for p in fetch.partitions where p.errorCode == 0 && p.highWatermark >= 0 {
                known.add(p.partition, p.highWatermark, knownAt: t, by: exchange.reference, now: now)
            }
        }
        if let t = exchange.responseTimeNs {
            for p in exchange.produced {
                guard let end = p.endOffset else { continue }
                if p.acks == -1 || (p.acks == 1 && context.model.replicaCounts[p.partition] == 1) {
                    known.add(p.partition, end, knownAt: t, by: exchange.reference, now: now)
                }
            }
        }
        return out
    }

    private func available(_ fetch: FetchView, before time: UInt64) -> (TopicPartition, Int64, TimedMaximum.Entry)? {
        for (tp, position) in fetch.positions.sorted(by: { $0.key < $1.key }) where position >= 0 {
            if let hw = known.value(tp, before: time), hw.value > position { return (tp, position, hw) }
        }
        return nil
    }
}
