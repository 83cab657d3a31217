import KafkaProtocol

/// I29: record sets use the format and compression the request's version allows.
///
/// The message format follows the API version: Produce v3+ carries only v2 record batches (magic 2,
/// ProduceRequest.json "Version 3 also adds support for Kafka Message Format v2"; Kafka rejects other
/// magics from v3), older Produce versions v0/v1 message sets; a Fetch v4+ client must handle v2
/// batches and gets them (FetchRequest.json "Starting in version 4, the requestor must be able to
/// handle Kafka log message format version 2"; Kafka 4.0 removed the old formats, KIP-724), Fetch v2-3
/// gets message format v0/v1 (Kafka down-converts for them) and Fetch v0-1 only v0. ZStandard
/// compression needs Produce v7+ and Fetch v10+ (KIP-110: older clients cannot decompress it, and the
/// broker answers UNSUPPORTED_COMPRESSION_TYPE instead).
public final class RecordSetsFitVersion: Invariant {
    /// `I29` in reports and `--only`/`--skip`: record sets fit the version.
    public let id = InvariantID(29)
    /// A fresh I29 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I29 (record sets fit the version).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let v = exchange.apiVersion
        var out: [Finding] = []
        switch exchange.apiKey {
        case 0:
            for p in exchange.produced {
                guard case .success(let set)? = p.records else { continue }
                check(set.batches, side: "Produce v\(v) request", partition: p.partition, exchange, into: &out) { magic in
                    v >= 3 ? magic == 2 : magic <= 1
                } allowsZstd: { v >= 7 }
            }
        case 1:
            for p in exchange.fetch?.partitions ?? [] {
                check(p.batches, side: "Fetch v\(v) response", partition: p.partition, exchange, into: &out) { magic in
                    v >= 4 ? magic == 2 : (v >= 2 ? magic <= 1 : magic == 0)
                } allowsZstd: { v >= 10 }
            }
        default:
            break
        }
        return out
    }

    private func check(
        _ batches: [KafkaRecordBatch], side: String, partition: TopicPartition, _ exchange: ExchangeContext,
        into out: inout [Finding], allowsMagic: (Int8) -> Bool, allowsZstd: () -> Bool
    ) {
        guard let b = batches.first(where: { !allowsMagic($0.magic) || ($0.compression == .zstd && !allowsZstd()) })
        else { return }
        let what =
            allowsMagic(b.magic)
            ? "zstd-compressed records, which need \(exchange.apiKey == 0 ? "Produce v7+" : "Fetch v10+") (KIP-110)"
            : "a message-format v\(b.magic) record set, which this version does not carry"
        out.append(
            Finding(
                id, "The \(side) carries \(what), for \(partition.topic)-\(partition.partition).", exchanges: [exchange.reference],
                details: [
                    "topic": partition.topic, "partition": String(partition.partition), "magic": String(b.magic),
                    "compression": "\(b.compression)", "apiVersion": String(exchange.apiVersion),
                ]))
    }
}
