import CCompression
import NIOCore

/// A codec failure; the record decoder turns it into a `KafkaDecodingError` with the payload's offset.
struct CodecFailure: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Kafka's four compression codecs over zlib, snappy, liblz4 and libzstd.
///
/// Decompression is bounded: no codec is handed room for more than `limit + 1` bytes of output in total,
/// so a payload that inflates beyond `limit` fails without ever being held in memory.
enum RecordCodec {
    /// xerial snappy-java's stream header ("\x82SNAPPY\0"), followed by version and compatible version.
    static let xerialMagic: [UInt8] = [0x82, 0x53, 0x4E, 0x41, 0x50, 0x50, 0x59, 0x00]
    /// Block size of snappy-java's `SnappyOutputStream`, which Kafka's Java producer uses.
    static let xerialBlockSize = 32 * 1024
    /// Kafka's default zstd level (`compression.zstd.level`).
    static let zstdLevel: Int32 = 3

    // MARK: Decompression

    /// Decompresses `input` with `codec`. `legacyLZ4HeaderChecksum` tolerates the LZ4 frame header
    /// checksum that magic-0 producers computed over the magic bytes too (Kafka's
    /// `ignoreFlagDescriptorChecksum`).
    static func decompress(
        _ input: ByteBuffer, codec: KafkaCompression, limit: Int, legacyLZ4HeaderChecksum: Bool = false
    ) throws(CodecFailure) -> ByteBuffer {
        let result: Result<ByteBuffer, CodecFailure> = input.withUnsafeReadableBytes { raw in
            do throws(CodecFailure) {
                switch codec {
                case .none: return .success(input)
                case .gzip: return .success(try gunzip(raw, limit: limit))
                case .snappy: return .success(try unsnappy(raw, limit: limit))
                case .lz4: return .success(try unlz4(raw, limit: limit, fixHeaderChecksum: legacyLZ4HeaderChecksum))
                case .zstd: return .success(try unzstd(raw, limit: limit))
                }
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func exceeded(_ limit: Int) -> CodecFailure {
        CodecFailure("decompressed size exceeds the limit of \(limit) bytes")
    }

    /// Output for streaming decompressors: grows geometrically, never past `limit + 1` bytes.
    struct BoundedOutput {
        var buffer: ByteBuffer
        let limit: Int

        init(limit: Int, expected: Int) {
            self.limit = limit
            let initial = min(max(expected, 256), limit + 1)
            buffer = ByteBufferAllocator().buffer(capacity: initial)
        }

        /// Hands `body` the next writable region (at least one byte, at most the remaining budget);
        /// `body` returns how many bytes it wrote there.
        mutating func write(_ body: (UnsafeMutableRawBufferPointer) -> Int) throws(CodecFailure) {
            let written = buffer.readableBytes
            guard written <= limit else { throw RecordCodec.exceeded(limit) }
            let budget = limit + 1 - written
            if buffer.writableBytes == 0 {
                buffer.reserveCapacity(min(max(buffer.capacity * 2, 4096), limit + 1))
            }
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { region in
                let n = min(region.count, budget)
                return body(UnsafeMutableRawBufferPointer(rebasing: region[0..<n]))
            }
        }

        func finish() throws(CodecFailure) -> ByteBuffer {
            guard buffer.readableBytes <= limit else { throw RecordCodec.exceeded(limit) }
            return buffer
        }
    }

    /// gzip (RFC 1952), concatenated members allowed as `GZIPInputStream` does; zlib-wrapped input is
    /// accepted too.
    static func gunzip(_ input: UnsafeRawBufferPointer, limit: Int) throws(CodecFailure) -> ByteBuffer {
        guard input.count <= Int(UInt32.max) else { throw CodecFailure("gzip: input too large") }
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CodecFailure("gzip: inflateInit failed")
        }
        defer { inflateEnd(&stream) }
        stream.next_in = input.baseAddress.map {
            UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
        }
        stream.avail_in = uInt(input.count)

        // The trailer's ISIZE is the uncompressed size mod 2^32: a hint, bounded by what deflate can reach.
        var expected = input.count * 4
        if input.count >= 18 {
            let t = input.count - 4
            let isize = Int(input[t]) | Int(input[t + 1]) << 8 | Int(input[t + 2]) << 16 | Int(input[t + 3]) << 24
            expected = min(isize, input.count * 1032)
        }
        var out = BoundedOutput(limit: limit, expected: expected)
        while true {
            var status: Int32 = Z_OK
            try out.write { region in
                stream.next_out = region.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(region.count)
                status = inflate(&stream, Z_NO_FLUSH)
                return region.count - Int(stream.avail_out)
            }
            switch status {
            case Z_STREAM_END:
                if stream.avail_in == 0 { return try out.finish() }
                guard inflateReset(&stream) == Z_OK else { throw CodecFailure("gzip: inflateReset failed") }
            case Z_OK:
                continue
            case Z_BUF_ERROR where stream.avail_in == 0:
                throw CodecFailure("gzip: stream ends before its end marker (truncated)")
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw CodecFailure("gzip: \(detail)")
            }
        }
    }

    /// Snappy, either xerial-framed (what Kafka's Java client writes) or one raw block (what librdkafka
    /// writes), told apart by the xerial magic as snappy-java's `SnappyInputStream` does.
    static func unsnappy(_ input: UnsafeRawBufferPointer, limit: Int) throws(CodecFailure) -> ByteBuffer {
        guard let base = input.baseAddress, input.count > 0 else { throw CodecFailure("snappy: empty payload") }
        let src = base.assumingMemoryBound(to: CChar.self)

        func uncompressedLength(_ at: Int, _ count: Int) throws(CodecFailure) -> Int {
            var n = 0
            guard snappy_uncompressed_length(src + at, count, &n) == SNAPPY_OK else {
                throw CodecFailure("snappy: invalid block header at payload byte \(at)")
            }
            return n
        }

        // Blocks as (offset, compressed length, uncompressed length).
        var blocks: [(Int, Int, Int)] = []
        var total = 0
        if input.count >= 16 && input.prefix(8).elementsEqual(xerialMagic) {
            var pos = 16
            while pos < input.count {
                guard input.count - pos >= 4 else { throw CodecFailure("snappy: truncated xerial block length") }
                let len = Int(
                    Int32(
                        bitPattern: UInt32(input[pos]) << 24 | UInt32(input[pos + 1]) << 16
                            | UInt32(input[pos + 2]) << 8 | UInt32(input[pos + 3])))
                pos += 4
                guard len >= 0, len <= input.count - pos else {
                    throw CodecFailure("snappy: xerial block length \(len) exceeds the \(input.count - pos) bytes left")
                }
                if len > 0 {
                    let n = try uncompressedLength(pos, len)
                    total += n
                    guard total <= limit else { throw exceeded(limit) }
                    blocks.append((pos, len, n))
                }
                pos += len
            }
        } else {
            total = try uncompressedLength(0, input.count)
            guard total <= limit else { throw exceeded(limit) }
            blocks.append((0, input.count, total))
        }

        var out = ByteBufferAllocator().buffer(capacity: total)
        var failure: CodecFailure?
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: total) { dst in
            guard let dstBase = dst.baseAddress?.assumingMemoryBound(to: CChar.self) else { return 0 }
            var written = 0
            for (at, len, n) in blocks {
                var produced = n
                guard snappy_uncompress(src + at, len, dstBase + written, &produced) == SNAPPY_OK, produced == n else {
                    failure = CodecFailure("snappy: corrupt block at payload byte \(at)")
                    return 0
                }
                written += n
            }
            return written
        }
        if let failure { throw failure }
        return out
    }

    /// The LZ4 frame format (Kafka's `Lz4BlockOutputStream` writes 64 KiB independent blocks).
    static func unlz4(_ input: UnsafeRawBufferPointer, limit: Int, fixHeaderChecksum: Bool) throws(CodecFailure)
        -> ByteBuffer
    {
        guard let base = input.baseAddress, input.count > 0 else { throw CodecFailure("lz4: empty payload") }
        var ctx: OpaquePointer?
        guard LZ4F_isError(LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))) == 0, let dctx = ctx else {
            throw CodecFailure("lz4: cannot create a decompression context")
        }
        defer { LZ4F_freeDecompressionContext(dctx) }
        func failure(_ code: Int) -> CodecFailure {
            CodecFailure("lz4: " + String(cString: LZ4F_getErrorName(code)))
        }

        var pos = 0
        if fixHeaderChecksum, let header = correctedLZ4Header(input) {
            // Feed a repaired copy of the frame header, then the rest from the original.
            var consumed = header.count
            var produced = 0
            var scratch: UInt8 = 0
            let code = header.withUnsafeBytes { h in
                withUnsafeMutableBytes(of: &scratch) { d in
                    LZ4F_decompress(dctx, d.baseAddress, &produced, h.baseAddress, &consumed, nil)
                }
            }
            if LZ4F_isError(code) != 0 { throw failure(code) }
            guard consumed == header.count else { throw CodecFailure("lz4: unreadable frame header") }
            pos = header.count
        }

        var out = BoundedOutput(limit: limit, expected: input.count * 4)
        while true {
            var code = 0
            var consumed = 0
            var filled = false
            let offset = pos
            try out.write { region in
                var dstSize = region.count
                var srcSize = input.count - offset
                code = LZ4F_decompress(dctx, region.baseAddress, &dstSize, base + offset, &srcSize, nil)
                consumed = srcSize
                filled = dstSize == region.count
                return dstSize
            }
            if LZ4F_isError(code) != 0 { throw failure(code) }
            pos += consumed
            if code == 0 {
                if pos == input.count { return try out.finish() }
                continue  // another frame follows
            }
            if pos == input.count && !filled {
                throw CodecFailure("lz4: frame ends before its end mark (truncated)")
            }
        }
    }

    /// The frame header of `input` with its checksum byte recomputed over the descriptor only, or nil when
    /// `input` does not start with a readable LZ4 frame header.
    static func correctedLZ4Header(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        guard input.count >= 7, input[0] == 0x04, input[1] == 0x22, input[2] == 0x4D, input[3] == 0x18 else {
            return nil
        }
        let flg = input[4]
        let descriptorLength = 2 + (flg & 0x08 != 0 ? 8 : 0) + (flg & 0x01 != 0 ? 4 : 0)
        guard input.count >= 4 + descriptorLength + 1 else { return nil }
        var header = Array(input[0..<(4 + descriptorLength)])
        header.append(UInt8(truncatingIfNeeded: XXHash32.hash(header[4...]) >> 8))
        return header
    }

    /// zstd, streaming (frames written by a streaming compressor need not declare their size), with the
    /// window capped so a hostile frame header cannot make the decoder allocate more than the limit needs.
    static func unzstd(_ input: UnsafeRawBufferPointer, limit: Int) throws(CodecFailure) -> ByteBuffer {
        guard let base = input.baseAddress, input.count > 0 else { throw CodecFailure("zstd: empty payload") }
        var expected = input.count * 4
        let declared = ZSTD_getFrameContentSize(base, input.count)
        if declared < UInt64.max - 1 {  // neither ZSTD_CONTENTSIZE_UNKNOWN nor ZSTD_CONTENTSIZE_ERROR
            guard declared <= UInt64(limit) else { throw exceeded(limit) }
            expected = Int(declared)
        }
        guard let dctx = ZSTD_createDCtx() else { throw CodecFailure("zstd: cannot create a decompression context") }
        defer { ZSTD_freeDCtx(dctx) }
        var windowLog: Int32 = 23
        while windowLog < 31 && (1 << Int(windowLog)) < limit { windowLog += 1 }
        _ = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, windowLog)

        var source = ZSTD_inBuffer(src: base, size: input.count, pos: 0)
        var out = BoundedOutput(limit: limit, expected: expected)
        while true {
            var code = 0
            var filled = false
            try out.write { region in
                var sink = ZSTD_outBuffer(dst: region.baseAddress, size: region.count, pos: 0)
                code = ZSTD_decompressStream(dctx, &sink, &source)
                filled = sink.pos == sink.size
                return sink.pos
            }
            if ZSTD_isError(code) != 0 {
                throw CodecFailure("zstd: " + String(cString: ZSTD_getErrorName(code)))
            }
            if code == 0 && source.pos == source.size { return try out.finish() }
            if code != 0 && source.pos == source.size && !filled {
                throw CodecFailure("zstd: frame ends early (truncated)")
            }
        }
    }

    // MARK: Compression

    /// Compresses `input` the way Kafka's Java producer does: gzip at the default level, xerial-framed
    /// snappy in 32 KiB blocks, LZ4 frames of independent 64 KiB blocks without content size or checksum,
    /// zstd at level 3. `legacyLZ4HeaderChecksum` writes the magic-0 LZ4 header checksum bug on purpose
    /// (Kafka's `useBrokenFlagDescriptorChecksum`), so magic-0 readers accept it.
    static func compress(_ input: ByteBuffer, codec: KafkaCompression, legacyLZ4HeaderChecksum: Bool = false)
        throws(CodecFailure) -> ByteBuffer
    {
        let result: Result<ByteBuffer, CodecFailure> = input.withUnsafeReadableBytes { raw in
            do throws(CodecFailure) {
                switch codec {
                case .none: return .success(input)
                case .gzip: return .success(try gzip(raw))
                case .snappy: return .success(try snappyXerial(raw))
                case .lz4: return .success(try lz4(raw, legacyHeaderChecksum: legacyLZ4HeaderChecksum))
                case .zstd: return .success(try zstd(raw))
                }
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func gzip(_ input: UnsafeRawBufferPointer) throws(CodecFailure) -> ByteBuffer {
        guard input.count <= Int(UInt32.max) else { throw CodecFailure("gzip: input too large") }
        var stream = z_stream()
        guard
            deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw CodecFailure("gzip: deflateInit failed") }
        defer { deflateEnd(&stream) }
        stream.next_in = input.baseAddress.map {
            UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
        }
        stream.avail_in = uInt(input.count)
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var out = ByteBufferAllocator().buffer(capacity: bound)
        var status: Int32 = Z_OK
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { dst in
            stream.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(min(dst.count, Int(UInt32.max)))
            status = deflate(&stream, Z_FINISH)
            return Int(stream.total_out)
        }
        guard status == Z_STREAM_END else { throw CodecFailure("gzip: deflate failed (\(status))") }
        return out
    }

    static func snappyXerial(_ input: UnsafeRawBufferPointer) throws(CodecFailure) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: 16 + snappy_max_compressed_length(input.count) + 64)
        out.writeBytes(xerialMagic)
        out.writeInteger(Int32(1))  // version
        out.writeInteger(Int32(1))  // minimum compatible version
        guard let base = input.baseAddress?.assumingMemoryBound(to: CChar.self) else { return out }
        var pos = 0
        while pos < input.count {
            let len = min(xerialBlockSize, input.count - pos)
            let bound = snappy_max_compressed_length(len)
            let chunk = base + pos
            var ok = false
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + bound) { dst in
                guard let d = dst.baseAddress else { return 0 }
                var n = bound
                guard snappy_compress(chunk, len, (d + 4).assumingMemoryBound(to: CChar.self), &n) == SNAPPY_OK else {
                    return 0
                }
                d.storeBytes(of: UInt32(n).bigEndian, as: UInt32.self)
                ok = true
                return 4 + n
            }
            guard ok else { throw CodecFailure("snappy: compression failed") }
            pos += len
        }
        return out
    }

    static func lz4(_ input: UnsafeRawBufferPointer, legacyHeaderChecksum: Bool) throws(CodecFailure) -> ByteBuffer {
        var prefs = LZ4F_preferences_t()
        prefs.frameInfo.blockSizeID = LZ4F_max64KB
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        let bound = LZ4F_compressFrameBound(input.count, &prefs)
        var out = ByteBufferAllocator().buffer(capacity: bound)
        var code = 0
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { dst in
            code = LZ4F_compressFrame(dst.baseAddress, dst.count, input.baseAddress, input.count, &prefs)
            return LZ4F_isError(code) != 0 ? 0 : code
        }
        if LZ4F_isError(code) != 0 { throw CodecFailure("lz4: " + String(cString: LZ4F_getErrorName(code))) }
        if legacyHeaderChecksum, let header = out.getBytes(at: out.readerIndex, length: 6) {
            // KAFKA-3160: magic-0 writers hashed the magic bytes along with the descriptor.
            out.setInteger(UInt8(truncatingIfNeeded: XXHash32.hash(header) >> 8), at: out.readerIndex + 6)
        }
        return out
    }

    static func zstd(_ input: UnsafeRawBufferPointer) throws(CodecFailure) -> ByteBuffer {
        let bound = ZSTD_compressBound(input.count)
        var out = ByteBufferAllocator().buffer(capacity: bound)
        var code = 0
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { dst in
            code = ZSTD_compress(dst.baseAddress, dst.count, input.baseAddress, input.count, zstdLevel)
            return ZSTD_isError(code) != 0 ? 0 : code
        }
        if ZSTD_isError(code) != 0 { throw CodecFailure("zstd: " + String(cString: ZSTD_getErrorName(code))) }
        return out
    }
}
