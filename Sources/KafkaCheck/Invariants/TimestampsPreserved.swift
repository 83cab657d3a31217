import KafkaProtocol

/// I30: timestamps come back as produced, and broker-assigned times are plausible.
///
/// KIP-32 gives every record a timestamp and every topic a `message.timestamp.type`:
/// - CreateTime: the broker keeps the producer's timestamps, so a fetched record carries the timestamp
///   and the CreateTime type it was produced with (compared with I1's digests, whichever side was seen
///   first), and the ProduceResponse's `LogAppendTimeMs` is -1 (ProduceResponse.json: "If CreateTime
///   is used for the topic, the timestamp will be -1");
/// - LogAppendTime: the broker stamps its own clock, returns it in `LogAppendTimeMs`, and fetched
///   batches carry the LogAppendTime type with that time. A partition whose fetched batches say one
///   type while a ProduceResponse says the other is a finding, once per partition. Records fetched
///   with CreateTime after a ProduceResponse claimed LogAppendTime (SeaweedFS's gateway) are that
///   finding, not one more per record: the claimed time is what the model keeps for them, so their
///   create times are not compared with the producer's there.
/// Broker-assigned times are milliseconds since the epoch within the capture's time window: a
/// `LogAppendTimeMs` outside [request time - 5 min, response time + 5 min] (clock skew allowed) or a
/// fetched LogAppendTime batch stamped after its response is a finding (seconds, microseconds or an
/// uninitialised clock show up here).
public final class TimestampsPreserved: Invariant {
    /// `I30` in reports and `--only`/`--skip`: timestamps come back as produced.
    public let id = InvariantID(30)
    /// How far broker and capture clocks may disagree, in ms.
    public static let clockSkewMs: Int64 = 300_000
    private struct PartitionTypes {
        var createTimeFetch: ExchangeReference?
        var logAppendFetch: ExchangeReference?
        var logAppendProduce: (ExchangeReference, Int64)?
        var createTimeProduce: ExchangeReference?
        var reported = false
    }
    private var types: [TopicPartition: PartitionTypes] = [:]
    /// A fresh I30 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I30 (timestamps come back as produced).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        let requestMs = exchange.exchange.request.time.wallNs / 1_000_000
        let responseMs = (exchange.exchange.response?.time.wallNs ?? exchange.exchange.request.time.wallNs) / 1_000_000
        for p in exchange.produced where p.errorCode == 0 && p.baseOffset != nil {
            if p.logAppendTimeMs >= 0 {
                if types[p.partition, default: PartitionTypes()].logAppendProduce == nil {
                    types[p.partition, default: PartitionTypes()].logAppendProduce = (exchange.reference, p.logAppendTimeMs)
                }
                if p.logAppendTimeMs < requestMs - Self.clockSkewMs || p.logAppendTimeMs > responseMs + Self.clockSkewMs {
                    out.append(
                        Finding(
                            id,
                            "The ProduceResponse for \(p.partition) reported LogAppendTimeMs \(p.logAppendTimeMs), outside the time of the exchange (\(requestMs)-\(responseMs) ms since the epoch, ± 5 min).",
                            exchanges: [exchange.reference],
                            details: p.partition.details.merging(["logAppendTimeMs": String(p.logAppendTimeMs)]) { a, _ in a },
                            summary: "ProduceResponses for \(p.partition) report LogAppendTimeMs outside the time of their exchange (± 5 min)\(Self.unitHint(p.logAppendTimeMs, nearMs: responseMs))."))
                }
            } else if types[p.partition, default: PartitionTypes()].createTimeProduce == nil {
                types[p.partition, default: PartitionTypes()].createTimeProduce = exchange.reference
            }
            out += typeConflict(p.partition)
        }
        for p in exchange.fetch?.partitions ?? [] where p.errorCode == 0 {
            for b in p.batches where b.magic >= 2 && !b.isControl {
                if b.timestampType == .logAppendTime {
                    if types[p.partition, default: PartitionTypes()].logAppendFetch == nil {
                        types[p.partition, default: PartitionTypes()].logAppendFetch = exchange.reference
                    }
                    if b.maxTimestamp > responseMs + Self.clockSkewMs {
                        out.append(
                            Finding(
                                id,
                                "A Fetch returned a LogAppendTime batch of \(p.partition) stamped \(b.maxTimestamp), after the response itself (\(responseMs) ms since the epoch, + 5 min).",
                                exchanges: [exchange.reference],
                                details: p.partition.details.merging(["maxTimestamp": String(b.maxTimestamp), "offset": String(b.baseOffset)]) { a, _ in a },
                                summary: "Fetches return LogAppendTime batches of \(p.partition) stamped after the response itself (+ 5 min)\(Self.unitHint(b.maxTimestamp, nearMs: responseMs))."))
                        break
                    }
                } else if types[p.partition, default: PartitionTypes()].createTimeFetch == nil {
                    types[p.partition, default: PartitionTypes()].createTimeFetch = exchange.reference
                }
            }
            out += typeConflict(p.partition)
        }
        // After the types: which record mismatches a type conflict already explains.
        out += contentTimestamps(exchange)
        return out
    }

    /// Whether `m` is the partition's type conflict seen at one record: the ProduceResponse claimed a
    /// LogAppendTime, the record comes back with CreateTime. That record may well carry the time its
    /// producer sent; the model keeps the claimed time in its place, so it cannot tell, and
    /// `typeConflict` already reports the contradiction once for the partition.
    private func explainedByTypeConflict(_ m: RecordMismatch) -> Bool {
        guard m.expected.isLogAppendTime, !m.actual.isLogAppendTime, let t = types[m.partition] else { return false }
        return t.logAppendProduce != nil && t.createTimeFetch != nil
    }

    /// Fetched records whose timestamp (or its type) differs from the produced one: one finding per
    /// exchange and partition, naming the first offset.
    private func contentTimestamps(_ exchange: ExchangeContext) -> [Finding] {
        var byPartition: [TopicPartition: [RecordMismatch]] = [:]
        var order: [TopicPartition] = []
        for m in exchange.timestampMismatches where !explainedByTypeConflict(m) {
            if byPartition[m.partition] == nil { order.append(m.partition) }
            byPartition[m.partition, default: []].append(m)
        }
        return order.compactMap { tp in
            guard let list = byPartition[tp], let first = list.first else { return nil }
            func describe(_ d: RecordDigest) -> String { "\(d.isLogAppendTime ? "LogAppendTime" : "CreateTime") \(d.timestamp)" }
            // Producers send CreateTime; an expected LogAppendTime comes from the broker's own
            // ProduceResponse (LogAppendTimeMs >= 0), so say that rather than "produced".
            func expectation(_ d: RecordDigest) -> String {
                d.isLogAppendTime
                    ? "expected LogAppendTime \(d.timestamp) (the ProduceResponse reported LogAppendTimeMs \(d.timestamp))"
                    : "produced \(describe(d))"
            }
            let more = list.count > 1 ? " (and \(list.count - 1) more offsets)" : ""
            var details = tp.details
            details["offset"] = String(first.offset)
            details["produced"] = describe(first.expected)
            details["fetched"] = describe(first.actual)
            details["offsets"] = String(list.count)
            return Finding(
                id,
                "A record of \(tp) fetched at offset \(first.offset) has the produced content but not its timestamp: \(expectation(first.expected)), fetched \(describe(first.actual))\(more).",
                exchanges: [first.actualBy, first.expectedBy], details: details,
                summary: "Records of \(tp) are fetched with the produced content but not the produced timestamp or timestamp type.")
        }
    }

    /// A hint when a time is off by a factor of a million: nanoseconds where Kafka means milliseconds.
    static func unitHint(_ value: Int64, nearMs: Int64) -> String {
        guard nearMs > 0, value / 1_000_000 > nearMs - Self.clockSkewMs, value / 1_000_000 < nearMs + Self.clockSkewMs else { return "" }
        return "; the values are nanoseconds, not milliseconds"
    }

    /// A partition whose fetched batches and ProduceResponses disagree on the timestamp type.
    private func typeConflict(_ tp: TopicPartition) -> [Finding] {
        guard let t = types[tp], !t.reported else { return [] }
        if let fetch = t.createTimeFetch, let (produce, time) = t.logAppendProduce {
            types[tp]?.reported = true
            return [
                Finding(
                    id,
                    "A ProduceResponse for \(tp) reported LogAppendTimeMs \(time), but the partition's batches come back with CreateTime (with CreateTime, LogAppendTimeMs is -1).",
                    exchanges: [produce, fetch], details: tp.details.merging(["logAppendTimeMs": String(time)]) { a, _ in a })
            ]
        }
        if let fetch = t.logAppendFetch, let produce = t.createTimeProduce {
            types[tp]?.reported = true
            return [
                Finding(
                    id,
                    "A ProduceResponse for \(tp) reported LogAppendTimeMs -1 (CreateTime), but the partition's batches come back with LogAppendTime.",
                    exchanges: [produce, fetch], details: tp.details)
            ]
        }
        return []
    }
}
