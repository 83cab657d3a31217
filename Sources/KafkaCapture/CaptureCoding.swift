import KafkaProtocol
import NIOCore

// The primitive encodings shared by the header and record bodies: big-endian fixed-width integers,
// strings as u32 length + UTF-8, byte strings as u32 length + bytes.

extension ByteBuffer {
    @inlinable
    mutating func writeCaptureString(_ s: String) {
        writeInteger(UInt32(truncatingIfNeeded: s.utf8.count), endianness: .big)
        writeString(s)
    }

    @inlinable
    mutating func writeCaptureBytes(_ b: ByteBuffer) {
        writeInteger(UInt32(truncatingIfNeeded: b.readableBytes), endianness: .big)
        writeImmutableBuffer(b)
    }

    @inlinable
    mutating func writeTimestamp(_ t: CaptureTimestamp) {
        writeInteger(t.monotonicNs, endianness: .big)
        writeInteger(t.wallNs, endianness: .big)
    }
}

/// Encoded size of a capture string.
@inlinable
func captureStringSize(_ s: String) -> Int { 4 + s.utf8.count }

/// Why a body that passed its CRC does not parse.
struct CaptureBodyError: Error, CustomStringConvertible {
    var offset: Int
    var what: String
    var description: String { "\(what) at body offset \(offset)" }
}

/// Reads the primitives of a record or header body. Every read checks the bytes that remain.
struct CaptureBodyReader {
    var buffer: ByteBuffer
    let origin: Int

    init(_ buffer: ByteBuffer) {
        self.buffer = buffer
        self.origin = buffer.readerIndex
    }

    var offset: Int { buffer.readerIndex - origin }

    func fail(_ what: String) -> CaptureBodyError { CaptureBodyError(offset: offset, what: what) }

    mutating func integer<T: FixedWidthInteger>(_ name: String, as: T.Type = T.self) throws(CaptureBodyError) -> T {
        guard let v = buffer.readInteger(endianness: .big, as: T.self) else {
            throw fail("truncated \(name): needed \(MemoryLayout<T>.size) bytes, \(buffer.readableBytes) left")
        }
        return v
    }

    mutating func timestamp() throws(CaptureBodyError) -> CaptureTimestamp {
        let mono: UInt64 = try integer("monotonic time")
        let wall: Int64 = try integer("wall time")
        return CaptureTimestamp(monotonicNs: mono, wallNs: wall)
    }

    mutating func length(_ name: String) throws(CaptureBodyError) -> Int {
        let n: UInt32 = try integer("\(name) length")
        guard Int(n) <= buffer.readableBytes else {
            buffer.moveReaderIndex(to: buffer.readerIndex - 4)
            throw fail("\(name) length \(n) exceeds the \(buffer.readableBytes - 4) bytes left")
        }
        return Int(n)
    }

    mutating func string(_ name: String) throws(CaptureBodyError) -> String {
        let n = try length(name)
        let start = buffer.readerIndex
        let s: String? = buffer.readWithUnsafeReadableBytes { raw in
            (n, String(validating: UnsafeRawBufferPointer(rebasing: raw[0..<n]), as: UTF8.self))
        }
        guard let s else {
            buffer.moveReaderIndex(to: start)
            throw fail("\(name) is not valid UTF-8")
        }
        return s
    }

    mutating func bytes(_ name: String) throws(CaptureBodyError) -> ByteBuffer {
        let n = try length(name)
        guard let b = buffer.readSlice(length: n) else { throw fail("truncated \(name)") }
        return b
    }

    mutating func rest() -> ByteBuffer {
        buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
    }
}

extension CaptureHeader {
    /// The header body (without the magic/version/length/CRC prefix).
    func encodedBody() -> ByteBuffer {
        var b = ByteBuffer()
        b.reserveCapacity(
            36 + captureStringSize(toolVersion) + captureStringSize(listenAddress)
                + captureStringSize(upstreamAddress) + captureStringSize(hostname))
        b.writeInteger(segmentIndex, endianness: .big)
        b.writeInteger(captureId.high, endianness: .big)
        b.writeInteger(captureId.low, endianness: .big)
        b.writeTimestamp(startTime)
        b.writeCaptureString(toolVersion)
        b.writeCaptureString(listenAddress)
        b.writeCaptureString(upstreamAddress)
        b.writeCaptureString(hostname)
        return b
    }

    /// The complete file header: magic, version, body length, body CRC, body.
    func encodedFileHeader() -> ByteBuffer {
        let body = encodedBody()
        var b = ByteBuffer()
        b.reserveCapacity(CaptureFormat.fileHeaderPrefixSize + body.readableBytes)
        b.writeBytes(CaptureFormat.magic)
        b.writeInteger(CaptureFormat.version, endianness: .big)
        b.writeInteger(UInt32(body.readableBytes), endianness: .big)
        b.writeInteger(CRC32C.checksum(body), endianness: .big)
        b.writeImmutableBuffer(body)
        return b
    }

    /// Parses a header body. Bytes after the known fields are ignored (fields added by later writers).
    init(decodingBody body: ByteBuffer) throws(CaptureBodyError) {
        var r = CaptureBodyReader(body)
        let index: UInt32 = try r.integer("segment index")
        let high: UInt64 = try r.integer("capture id")
        let low: UInt64 = try r.integer("capture id")
        let start = try r.timestamp()
        let tool = try r.string("tool version")
        let listen = try r.string("listen address")
        let upstream = try r.string("upstream address")
        let host = try r.string("hostname")
        self.init(
            toolVersion: tool, startTime: start, listenAddress: listen, upstreamAddress: upstream,
            hostname: host, segmentIndex: index, captureId: CaptureID(high: high, low: low))
    }
}
