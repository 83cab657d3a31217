import NIOCore

/// One record header (KIP-82): a UTF-8 key and a nullable value.
public struct KafkaRecordHeader: Hashable, Sendable {
    public var key: String
    public var value: ByteBuffer?

    public init(key: String, value: ByteBuffer?) {
        self.key = key
        self.value = value
    }
}
