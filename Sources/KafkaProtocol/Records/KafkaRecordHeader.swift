import NIOCore

/// One record header (KIP-82): a UTF-8 key and a nullable value.
public struct KafkaRecordHeader: Hashable, Sendable {
    /// The header key (UTF-8, never null).
    public var key: String
    /// The header value; nil for null.
    public var value: ByteBuffer?

    /// A header from its key and value.
    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}
