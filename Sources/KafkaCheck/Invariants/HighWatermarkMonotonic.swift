/// I5: on one connection, a partition's high watermark never goes backwards.
///
/// Per (connection, partition), the last high watermark of an error-free Fetch response partition.
public final class HighWatermarkMonotonic: Invariant {
    /// `I5` in reports and `--only`/`--skip`: the high watermark never goes backwards.
    public let id = InvariantID(5)
    private struct Key: Hashable {
        var connection: UInt64
        var partition: TopicPartition
    }
    private var last: [Key: (value: Int64, by: ExchangeReference)] = [:]
    /// A fresh I5 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I5 (the high watermark never goes backwards).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard let fetch = exchange.fetch else { return [] }
        var out: [Finding] = []
        for p in fetch.partitions where p.errorCode == 0 && p.highWatermark >= 0 {
            let key = Key(connection: exchange.exchange.connectionId, partition: p.partition)
            if let prev = last[key], p.highWatermark < prev.value {
                var details = p.partition.details
                details["previous"] = String(prev.value)
                details["now"] = String(p.highWatermark)
                out.append(
                    Finding(
                        id,
                        "The high watermark of \(p.partition) went back from \(prev.value) to \(p.highWatermark) on connection \(key.connection).",
                        exchanges: [exchange.reference, prev.by], details: details))
            }
            last[key] = (p.highWatermark, exchange.reference)
        }
        return out
    }
}
