import NIOCore

/// Reads Kafka primitive types from a `ByteBuffer`. Every read checks the bytes that remain before it
/// allocates, and fails with a `KafkaDecodingError` that names the byte offset (relative to where the
/// reader started) instead of crashing. Reads advance only on success.
public struct KafkaReader: Sendable {
    /// The bytes not read yet (the reader index moves as fields are read).
    public var buffer: ByteBuffer
    @usableFromInline let origin: Int

    /// A reader over `buffer`'s readable bytes; error offsets count from here.
    @inlinable
    public init(_ buffer: ByteBuffer) {
        self.buffer = buffer
        self.origin = buffer.readerIndex
    }

    /// Bytes consumed since the reader was created.
    @inlinable
    public var offset: Int { buffer.readerIndex - origin }

    /// Bytes left to read.
    @inlinable
    public var remaining: Int { buffer.readableBytes }

    @inlinable
    func error(_ kind: KafkaDecodingError.Kind) -> KafkaDecodingError {
        KafkaDecodingError(kind, offset: offset)
    }

    @inlinable
    func truncated(_ needed: Int) -> KafkaDecodingError {
        error(.truncated(needed: needed, available: buffer.readableBytes))
    }

    // MARK: Fixed-width integers

    /// A big-endian fixed-width integer; throws `truncated` (at the current offset) when too few bytes remain.
    @inlinable
    public mutating func readInteger<T: FixedWidthInteger>(as: T.Type = T.self) throws(KafkaDecodingError) -> T {
        guard let v = buffer.readInteger(endianness: .big, as: T.self) else {
            throw truncated(MemoryLayout<T>.size)
        }
        return v
    }

    /// Kafka `int8`.
    @inlinable public mutating func readInt8() throws(KafkaDecodingError) -> Int8 { try readInteger() }
    /// Kafka `int16`, big-endian like every fixed-width Kafka integer.
    @inlinable public mutating func readInt16() throws(KafkaDecodingError) -> Int16 { try readInteger() }
    /// Kafka `int32`, big-endian.
    @inlinable public mutating func readInt32() throws(KafkaDecodingError) -> Int32 { try readInteger() }
    /// Kafka `int64`, big-endian.
    @inlinable public mutating func readInt64() throws(KafkaDecodingError) -> Int64 { try readInteger() }
    /// Kafka `uint16`, big-endian.
    @inlinable public mutating func readUInt16() throws(KafkaDecodingError) -> UInt16 { try readInteger() }
    /// Kafka `uint32`, big-endian.
    @inlinable public mutating func readUInt32() throws(KafkaDecodingError) -> UInt32 { try readInteger() }

    /// Kafka's BOOLEAN: one byte, 0 is false, anything else true.
    @inlinable
    public mutating func readBool() throws(KafkaDecodingError) -> Bool {
        let b: UInt8 = try readInteger()
        return b != 0
    }

    /// Kafka `float64`: IEEE 754 bits, big-endian.
    @inlinable
    public mutating func readFloat64() throws(KafkaDecodingError) -> Double {
        let bits: UInt64 = try readInteger()
        return Double(bitPattern: bits)
    }

    /// Kafka `uuid`: 16 bytes, most significant half first.
    @inlinable
    public mutating func readUUID() throws(KafkaDecodingError) -> KafkaUUID {
        guard buffer.readableBytes >= 16 else { throw truncated(16) }
        let h: UInt64 = try readInteger()
        let l: UInt64 = try readInteger()
        return KafkaUUID(high: h, low: l)
    }

    // MARK: Varints

    /// UNSIGNED_VARINT: at most 5 bytes.
    @inlinable
    public mutating func readUnsignedVarint() throws(KafkaDecodingError) -> UInt32 {
        let start = buffer.readerIndex
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard let byte = buffer.readInteger(as: UInt8.self) else {
                buffer.moveReaderIndex(to: start)
                throw truncated(1)
            }
            if shift == 28 && byte > 0x0f {
                buffer.moveReaderIndex(to: start)
                throw error(.invalidVarint)
            }
            result |= UInt32(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// UNSIGNED_VARLONG: at most 10 bytes.
    @inlinable
    public mutating func readUnsignedVarlong() throws(KafkaDecodingError) -> UInt64 {
        let start = buffer.readerIndex
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard let byte = buffer.readInteger(as: UInt8.self) else {
                buffer.moveReaderIndex(to: start)
                throw truncated(1)
            }
            if shift == 63 && byte > 0x01 {
                buffer.moveReaderIndex(to: start)
                throw error(.invalidVarint)
            }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// VARINT: zig-zag encoded signed 32-bit.
    @inlinable
    public mutating func readVarint() throws(KafkaDecodingError) -> Int32 {
        let u = try readUnsignedVarint()
        return Int32(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    /// VARLONG: zig-zag encoded signed 64-bit.
    @inlinable
    public mutating func readVarlong() throws(KafkaDecodingError) -> Int64 {
        let u = try readUnsignedVarlong()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    // MARK: Lengths

    /// Reads a length prefix: INT16/INT32 for classic encodings, UNSIGNED_VARINT N+1 for compact ones.
    /// Returns nil for null (-1). The length is checked against the bytes that remain when
    /// `elementsAreBytes` (strings, bytes) and against remaining bytes as an upper bound on element
    /// count otherwise (every element takes at least one byte), so no caller allocates on it unchecked.
    @inlinable
    public mutating func readLength(compact: Bool, wide: Bool) throws(KafkaDecodingError) -> Int? {
        let start = buffer.readerIndex
        let n: Int64
        if compact {
            n = Int64(try readUnsignedVarint()) - 1
        } else if wide {
            n = Int64(try readInt32())
        } else {
            n = Int64(try readInt16())
        }
        if n == -1 { return nil }
        if n < -1 {
            buffer.moveReaderIndex(to: start)
            throw error(.negativeLength(n))
        }
        if n > Int64(buffer.readableBytes) {
            let available = buffer.readableBytes
            buffer.moveReaderIndex(to: start)
            throw error(.lengthTooLarge(n, limit: available))
        }
        return Int(n)
    }

    /// An array's element count, nil for a null array: int32, or an unsigned varint of count + 1 in flexible versions.
    @inlinable
    public mutating func readArrayCount(compact: Bool) throws(KafkaDecodingError) -> Int? {
        try readLength(compact: compact, wide: true)
    }

    // MARK: Strings and bytes

    /// A nullable string: int16 length (-1: null) or a compact length (0: null), then UTF-8; invalid UTF-8 is an error.
    @inlinable
    public mutating func readNullableString(compact: Bool) throws(KafkaDecodingError) -> String? {
        let start = buffer.readerIndex
        guard let n = try readLength(compact: compact, wide: false) else { return nil }
        let s: String? = buffer.readWithUnsafeReadableBytes { raw in
            (n, String(validating: UnsafeRawBufferPointer(rebasing: raw[0..<n]), as: UTF8.self))
        }
        guard let s else {
            buffer.moveReaderIndex(to: start)
            throw error(.invalidUTF8)
        }
        return s
    }

    /// A string that must not be null; a null one is `unexpectedNull` at its offset.
    @inlinable
    public mutating func readString(compact: Bool) throws(KafkaDecodingError) -> String {
        let start = offset
        guard let s = try readNullableString(compact: compact) else {
            throw KafkaDecodingError(.unexpectedNull, offset: start)
        }
        return s
    }

    /// Nullable bytes: int32 length (-1: null) or a compact length (0: null), then the bytes as a slice (no copy).
    @inlinable
    public mutating func readNullableBytes(compact: Bool) throws(KafkaDecodingError) -> ByteBuffer? {
        guard let n = try readLength(compact: compact, wide: true) else { return nil }
        return buffer.readSlice(length: n)
    }

    /// Bytes that must not be null; a null one is `unexpectedNull` at its offset.
    @inlinable
    public mutating func readBytes(compact: Bool) throws(KafkaDecodingError) -> ByteBuffer {
        let start = offset
        guard let b = try readNullableBytes(compact: compact) else {
            throw KafkaDecodingError(.unexpectedNull, offset: start)
        }
        return b
    }

    /// Reads exactly `length` bytes as a slice.
    @inlinable
    public mutating func readSlice(length: Int) throws(KafkaDecodingError) -> ByteBuffer {
        guard length >= 0 else { throw error(.negativeLength(Int64(length))) }
        guard let s = buffer.readSlice(length: length) else { throw truncated(length) }
        return s
    }

    /// Reads a non-null array count (throws on null).
    @inlinable
    public mutating func readNonNullArrayCount(compact: Bool) throws(KafkaDecodingError) -> Int {
        let start = offset
        guard let n = try readArrayCount(compact: compact) else {
            throw KafkaDecodingError(.unexpectedNull, offset: start)
        }
        return n
    }

    // MARK: Skipping

    /// Moves past `count` bytes; throws `truncated` when fewer remain.
    @inlinable
    public mutating func skip(_ count: Int) throws(KafkaDecodingError) {
        guard count >= 0 else { throw error(.negativeLength(Int64(count))) }
        guard count <= buffer.readableBytes else { throw truncated(count) }
        buffer.moveReaderIndex(forwardBy: count)
    }

    /// Moves past a string (null or not) without checking its UTF-8.
    @inlinable
    public mutating func skipString(compact: Bool) throws(KafkaDecodingError) {
        if let n = try readLength(compact: compact, wide: false) { buffer.moveReaderIndex(forwardBy: n) }
    }

    /// Moves past bytes or records (null or not).
    @inlinable
    public mutating func skipBytes(compact: Bool) throws(KafkaDecodingError) {
        if let n = try readLength(compact: compact, wide: true) { buffer.moveReaderIndex(forwardBy: n) }
    }

    /// A sub-reader over the next `length` bytes whose offsets continue this reader's numbering.
    @inlinable
    public mutating func subReader(length: Int) throws(KafkaDecodingError) -> KafkaReader {
        let atOffset = offset
        let slice = try readSlice(length: length)
        return KafkaReader(slice, startingAt: atOffset, origin: origin)
    }

    @inlinable
    init(_ slice: ByteBuffer, startingAt offset: Int, origin: Int) {
        self.buffer = slice
        self.origin = slice.readerIndex - offset
    }

    /// Fails unless every byte was consumed.
    @inlinable
    public func expectEnd() throws(KafkaDecodingError) {
        if buffer.readableBytes != 0 { throw error(.trailingBytes(count: buffer.readableBytes)) }
    }
}
