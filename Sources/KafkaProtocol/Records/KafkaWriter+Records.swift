import NIOCore

/// Writing the varint-length bytes of v2 records (KIP-98), which the message schemas never use.
extension KafkaWriter {
    @inlinable
    mutating func writeVarintBytes(_ bytes: ByteBuffer?) {
        guard let bytes else {
            writeVarint(-1)
            return
        }
        writeVarint(Int32(truncatingIfNeeded: bytes.readableBytes))
        buffer.writeImmutableBuffer(bytes)
    }
}

/// Encoded sizes of zig-zag varints, for writing a record's length before its fields.
enum VarintSize {
    @inlinable
    static func unsigned(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    @inlinable
    static func of(_ v: Int32) -> Int { unsigned(UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31)))) }

    @inlinable
    static func of(_ v: Int64) -> Int { unsigned(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }
}
