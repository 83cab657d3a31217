import NIOCore

/// Writes Kafka primitive types into a `ByteBuffer`.
public struct KafkaWriter: Sendable {
    /// What has been written so far; take it when done.
    public var buffer: ByteBuffer

    /// A writer that appends to `buffer` (empty by default).
    @inlinable
    public init(_ buffer: ByteBuffer = ByteBuffer()) {
        self.buffer = buffer
    }

    /// A writer with room for `capacity` bytes, for callers that know the encoded size.
    @inlinable
    public init(capacity: Int) {
        self.buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Kafka `int8`.
    @inlinable public mutating func writeInt8(_ v: Int8) { buffer.writeInteger(v, endianness: .big) }
    /// Kafka `int16`, big-endian like every fixed-width Kafka integer.
    @inlinable public mutating func writeInt16(_ v: Int16) { buffer.writeInteger(v, endianness: .big) }
    /// Kafka `int32`, big-endian.
    @inlinable public mutating func writeInt32(_ v: Int32) { buffer.writeInteger(v, endianness: .big) }
    /// Kafka `int64`, big-endian.
    @inlinable public mutating func writeInt64(_ v: Int64) { buffer.writeInteger(v, endianness: .big) }
    /// Kafka `uint16`, big-endian.
    @inlinable public mutating func writeUInt16(_ v: UInt16) { buffer.writeInteger(v, endianness: .big) }
    /// Kafka `uint32`, big-endian.
    @inlinable public mutating func writeUInt32(_ v: UInt32) { buffer.writeInteger(v, endianness: .big) }
    /// Kafka `bool`: one byte, 1 or 0.
    @inlinable public mutating func writeBool(_ v: Bool) { buffer.writeInteger(UInt8(v ? 1 : 0)) }
    /// Kafka `float64`: the IEEE 754 bits, big-endian.
    @inlinable public mutating func writeFloat64(_ v: Double) { buffer.writeInteger(v.bitPattern, endianness: .big) }

    /// Kafka `uuid`: 16 bytes, most significant half first.
    @inlinable
    public mutating func writeUUID(_ v: KafkaUUID) {
        buffer.writeInteger(v.high, endianness: .big)
        buffer.writeInteger(v.low, endianness: .big)
    }

    /// An unsigned varint (7 bits a byte, low bits first), as compact lengths and tagged-field headers use (KIP-482).
    @inlinable
    public mutating func writeUnsignedVarint(_ v: UInt32) {
        var v = v
        while v >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.writeInteger(UInt8(v))
    }

    /// An unsigned varlong, the 64-bit form of `writeUnsignedVarint`.
    @inlinable
    public mutating func writeUnsignedVarlong(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        buffer.writeInteger(UInt8(v))
    }

    /// A zigzag-encoded signed varint, as record batches use for record fields (KIP-98).
    @inlinable
    public mutating func writeVarint(_ v: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }

    /// A zigzag-encoded signed varlong (a record's timestamp delta in v2 batches).
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

    /// An array's element count: int32 (-1 for null), or an unsigned varint of count + 1 in flexible versions.
    @inlinable
    public mutating func writeArrayCount(_ n: Int?, compact: Bool) {
        writeLength(n, compact: compact, wide: true)
    }

    /// A nullable string: int16 length (-1 for null) then UTF-8, or a compact length (0 for null) in flexible versions.
    @inlinable
    public mutating func writeNullableString(_ s: String?, compact: Bool) {
        guard let s else {
            writeLength(nil, compact: compact, wide: false)
            return
        }
        writeLength(s.utf8.count, compact: compact, wide: false)
        buffer.writeString(s)
    }

    /// A non-null string (same encoding as `writeNullableString`).
    @inlinable
    public mutating func writeString(_ s: String, compact: Bool) {
        writeNullableString(s, compact: compact)
    }

    /// Nullable bytes: int32 length (-1 for null) then the bytes, or a compact length in flexible versions.
    @inlinable
    public mutating func writeNullableBytes(_ b: ByteBuffer?, compact: Bool) {
        guard let b else {
            writeLength(nil, compact: compact, wide: true)
            return
        }
        writeLength(b.readableBytes, compact: compact, wide: true)
        buffer.writeImmutableBuffer(b)
    }

    /// Non-null bytes (same encoding as `writeNullableBytes`).
    @inlinable
    public mutating func writeBytes(_ b: ByteBuffer, compact: Bool) {
        writeNullableBytes(b, compact: compact)
    }

    /// Bytes as they are, with no length prefix (record batches, already-encoded parts).
    @inlinable
    public mutating func writeRaw(_ b: ByteBuffer) {
        buffer.writeImmutableBuffer(b)
    }
}
