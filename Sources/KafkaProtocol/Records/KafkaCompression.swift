/// The codec of a record batch or legacy wrapper message: the low three bits of its attributes.
public enum KafkaCompression: Int8, Sendable, CaseIterable {
    /// Uncompressed.
    case none = 0
    /// gzip (zlib's deflate with a gzip header).
    case gzip = 1
    /// Snappy in the xerial snappy-java framing that Kafka's Java producer writes.
    case snappy = 2
    /// LZ4 frame format (magic-0 messages with the header checksum bug of Kafka's early writer are read too).
    case lz4 = 3
    /// Only valid in v2 batches (KIP-110).
    case zstd = 4

    /// The name Kafka uses in `compression.type` ("none", "gzip", ...).
    public var name: String {
        switch self {
        case .none: return "none"
        case .gzip: return "gzip"
        case .snappy: return "snappy"
        case .lz4: return "lz4"
        case .zstd: return "zstd"
        }
    }
}
