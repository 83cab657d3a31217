import KafkaProtocol

/// I31: the log start offset that ProduceResponses, Fetch responses and ListOffsets EARLIEST report
/// for a partition agree, and it never goes backwards.
///
/// Three answers carry a partition's log start offset: ProduceResponse `LogStartOffset` (v5+, KIP-107),
/// FetchResponse `LogStartOffset` (v5+) and ListOffsets for EARLIEST (-2). They report the same
/// thing, and it only moves up (retention, DeleteRecords, KIP-107). So an answer to a request sent
/// after another answer was captured must not report a smaller log start offset for the partition,
/// whichever of the three APIs gave either: a ProduceResponse whose log start is above what the
/// next Fetch says (or below what an earlier ListOffsets said) is a finding. -1 (unknown, also sent with
/// errors) is not compared. I7 compares EARLIEST with the Fetch log start when nothing was produced in
/// between; this adds the ProduceResponse and the direction.
public final class LogStartOffsetsAgree: Invariant {
    /// `I31` in reports and `--only`/`--skip`: log start offsets agree.
    public let id = InvariantID(31)
    private var known = TimedMaximum()
    /// A fresh I31 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I31 (log start offsets agree).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard let responseTime = exchange.responseTimeNs else { return [] }
        var seen: [(TopicPartition, Int64, String)] = []
        switch exchange.apiKey {
        case 0:
            guard exchange.apiVersion >= 5, let resp = exchange.responseBody(ProduceResponse.self) else { return [] }
            for t in resp.responses {
                let name = exchange.apiVersion >= 13 ? context.model.topicName(id: t.topicId) : t.name
                for p in t.partitionResponses where p.errorCode == 0 && p.logStartOffset >= 0 {
                    seen.append((TopicPartition(name, p.index), p.logStartOffset, "a ProduceResponse"))
                }
            }
        case 1:
            guard exchange.apiVersion >= 5, let fetch = exchange.fetch else { return [] }
            for p in fetch.partitions where p.errorCode == 0 && p.logStartOffset >= 0 {
                seen.append((p.partition, p.logStartOffset, "a Fetch"))
            }
        case 2:
            for a in exchange.listOffsetsAnswers where a.requestedTimestamp == ListOffsetsAnswer.earliest && a.errorCode == 0 && a.offset >= 0 {
                seen.append((a.partition, a.offset, "ListOffsets EARLIEST"))
            }
        default:
            return []
        }
        var out: [Finding] = []
        for (tp, value, source) in seen {
            if let before = known.value(tp, before: exchange.requestTimeNs), value < before.value {
                let earlier = Self.label(before.by.apiName)
                var details = tp.details
                details["logStartOffset"] = String(value)
                details["earlier"] = String(before.value)
                out.append(
                    Finding(
                        id,
                        "\(source.prefix(1).uppercased() + source.dropFirst()) reported log start offset \(value) for \(tp), below \(before.value), which \(earlier) had reported before the request was sent.",
                        exchanges: [exchange.reference, before.by], details: details))
            }
            known.add(tp, value, knownAt: responseTime, by: exchange.reference, now: exchange.requestTimeNs)
        }
        return out
    }

    static func label(_ apiName: String) -> String {
        switch apiName {
        case "Produce": return "a ProduceResponse"
        case "Fetch": return "a Fetch"
        case "ListOffsets": return "ListOffsets EARLIEST"
        default: return "an earlier answer"
        }
    }
}
