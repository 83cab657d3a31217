import KafkaProtocol

/// I11: every record batch in a Produce request or Fetch response has a valid CRC, length,
/// compression and record count (lastOffsetDelta + 1 for v2 batches).
///
/// Uses the codec's record decoding with CRC verification: a batch that does not decode (bad
/// length, unknown codec, corrupt compressed data) is a finding, as are batches with `crcValid`
/// false and v2 batches whose record count is not lastOffsetDelta + 1. A batch cut short at the end
/// of a Fetch response is normal (the size limit); in a Produce request it is not.
public final class RecordBatchesWellFormed: Invariant {
    /// `I11` in reports and `--only`/`--skip`: record batches are well-formed.
    public let id = InvariantID(11)
    /// A fresh I11 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I11 (record batches are well-formed).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        for p in exchange.produced {
            if let f = check(p.records, p.partition, in: "Produce request", exchange, tailAllowed: false) { out.append(f) }
        }
        for p in exchange.fetch?.partitions ?? [] {
            if let f = check(p.records, p.partition, in: "Fetch response", exchange, tailAllowed: true) { out.append(f) }
        }
        return out
    }

    private func check(
        _ records: Result<KafkaRecordSet, KafkaDecodingError>?, _ tp: TopicPartition, in what: String,
        _ exchange: ExchangeContext, tailAllowed: Bool
    ) -> Finding? {
        var details = tp.details
        details["in"] = what
        switch records {
        case nil:
            return nil
        case .failure(let e)?:
            details["error"] = e.description
            return Finding(
                id, "The records of \(tp) in the \(what) do not decode: \(e.description).",
                exchanges: [exchange.reference], details: details)
        case .success(let set)?:
            var problems: [String] = []
            for b in set.batches {
                if !b.crcValid { problems.append("batch at offset \(b.baseOffset) has a bad CRC (stored 0x\(String(b.crc, radix: 16)))") }
                if b.recordCountMismatch {
                    problems.append(
                        "batch at offset \(b.baseOffset) has lastOffsetDelta \(b.lastOffsetDelta) but \(b.records.count) records")
                }
            }
            if !tailAllowed && set.truncatedTailBytes > 0 {
                problems.append("the last \(set.truncatedTailBytes) bytes are an incomplete batch")
            }
            guard let first = problems.first else { return nil }
            details["problems"] = String(problems.count)
            details["problem"] = first
            let more = problems.count > 1 ? " (and \(problems.count - 1) more problem\(problems.count == 2 ? "" : "s"))" : ""
            return Finding(id, "In the \(what) for \(tp), the \(first)\(more).", exchanges: [exchange.reference], details: details)
        }
    }
}
