import NIOCore

/// Writes Kafka primitive types into a `ByteBuffer`.
public struct KafkaWriter: Sendable {
    public var buffer: ByteBuffer

    @inlinable
    public init(_ buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    @inlinable
    public init(capacity: Int) {
        self.buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    @inlinable public mutating func writeInt8(_ v: Int8) { buffer.writeInteger(v, endianness: .big) }
    @inlinable public mutating func writeInt16(_ v: Int16) { buffer.writeInteger(v, endianness: .big) }
    @inlinable public mutating func writeInt32(_ v: Int32) { buffer.writeInteger(v, endianness: .big) }
    @inlinable public mutating func writeInt64(_ v: Int64) { buffer.writeInteger(v, endianness: .big) }
    @inlinable public mutating func writeUInt16(_ v: UInt16) { buffer.writeInteger(v, endianness: .big) }
    @inlinable public mutating func writeUInt32(_ v: UInt32) { buffer.writeInteger(v, endianness: .big) }
    @inlinable public mutating func writeBool(_ v: Bool) { buffer.writeInteger(UInt8(v ? 1 : 0)) }
    @inlinable public mutating func writeFloat64(_ v: Double) { buffer.writeInteger(v.bitPattern, endianness: .big) }

    @inlinable
    public mutating func writeUUID(_ v: KafkaUUID) {
        buffer.writeInteger(v.high, endianness: .big)
        buffer.writeInteger(v.low, endianness: .big)
    }

    @inlinable
    public mutating func writeUnsignedVarint(_ v: UInt32) {
        var v = v
        while v >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.writeInteger(UInt8(v))
    }

    @inlinable
    public mutating func writeUnsignedVarlong(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.writeInteger(UInt8(v))
    }

    @inlinable
    public mutating func writeVarint(_ v: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }

    @inlinable
    public mutating func writeVarlong(_ v: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (v << 1) ^ (v >> 63)))
    }

    /// Writes a length prefix; nil is written as null (-1, or 0 in compact form).
    @inlinable
    public mutating func writeLength(_ n: Int?, compact: Bool, wide: Bool) {
        if compact {
            writeUnsignedVarint(UInt32(truncatingIfNeeded: (n ?? -1) + 1))
        } else if wide {
            writeInt32(Int32(truncatingIfNeeded: n ?? -1))
        } else {
            writeInt16(Int16(truncatingIfNeeded: n ?? -1))
        }
    }

    @inlinable
    public mutating func writeArrayCount(_ n: Int?, compact: Bool) {
        writeLength(n, compact: compact, wide: true)
    }

    @inlinable
    public mutating func writeNullableString(_ s: String?, compact: Bool) {
        guard let s else {
            writeLength(nil, compact: compact, wide: false)
            return
        }
        writeLength(s.utf8.count, compact: compact, wide: false)
        buffer.writeString(s)
    }

    @inlinable
    public mutating func writeString(_ s: String, compact: Bool) {
        writeNullableString(s, compact: compact)
    }

    @inlinable
    public mutating func writeNullableBytes(_ b: ByteBuffer?, compact: Bool) {
        guard let b else {
            writeLength(nil, compact: compact, wide: true)
            return
        }
        writeLength(b.readableBytes, compact: compact, wide: true)
        buffer.writeImmutableBuffer(b)
    }

    @inlinable
    public mutating func writeBytes(_ b: ByteBuffer, compact: Bool) {
        writeNullableBytes(b, compact: compact)
    }

    @inlinable
    public mutating func writeRaw(_ b: ByteBuffer) {
        buffer.writeImmutableBuffer(b)
    }
}
