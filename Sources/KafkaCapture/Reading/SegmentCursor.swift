import NIOCore

/// Streams one segment in large chunks. Bytes handed out as slices stay valid: a refill allocates a
/// fresh chunk and copies only the unconsumed remainder, never moving bytes under a slice.
final class SegmentCursor {
    let source: any CaptureSegmentSource
    let path: String
    let chunkSize: Int
    /// Unconsumed bytes; `readerIndex` is at file offset `offset`.
    private(set) var buffer = ByteBuffer()
    private(set) var offset: Int64 = 0
    private(set) var atEOF = false
    /// The segment's size when last asked (a capture being written grows).
    private var knownSize: Int64 = -1

    init(source: any CaptureSegmentSource, path: String, chunkSize: Int) {
        self.source = source
        self.path = path
        self.chunkSize = chunkSize
    }

    deinit { source.close() }

    /// Bytes buffered and not consumed.
    var available: Int { buffer.readableBytes }

    /// Makes at least `n` bytes available; false when the segment ends first.
    func ensure(_ n: Int) throws(CaptureError) -> Bool {
        if buffer.readableBytes >= n { return true }
        if atEOF { return false }
        var fresh = ByteBufferAllocator().buffer(capacity: max(chunkSize, n))
        fresh.writeImmutableBuffer(buffer)
        buffer = fresh
        while buffer.readableBytes < n {
            if buffer.writableBytes == 0 { buffer.reserveCapacity(minimumWritableBytes: n - buffer.readableBytes) }
            var failure: CaptureError?
            let source = self.source
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { ptr -> Int in
                do throws(CaptureError) {
                    return try source.read(into: ptr)
                } catch {
                    failure = error
                    return 0
                }
            }
            if let failure { throw failure }
            if got == 0 {
                atEOF = true
                return false
            }
        }
        return true
    }

    /// Bytes from the current position to the end of the segment, asking the file again only when the
    /// size known so far is not enough for `wanted`.
    func remaining(atLeast wanted: Int) throws(CaptureError) -> Int64 {
        if knownSize - offset < Int64(wanted) { knownSize = try source.size() }
        return max(0, knownSize - offset)
    }

    /// Continues from `newOffset` (forward or back), dropping what is buffered.
    func reposition(to newOffset: Int64) throws(CaptureError) {
        try source.seek(to: newOffset)
        buffer = ByteBuffer()
        offset = newOffset
        atEOF = false
    }

    func skip(_ n: Int) {
        buffer.moveReaderIndex(forwardBy: n)
        offset += Int64(n)
    }

    /// Whether every byte from the current position to the end of the segment is zero. Consumes the
    /// cursor (used only once the reader has stopped).
    func restIsZero() throws(CaptureError) -> Bool {
        while true {
            let nonZero = buffer.withUnsafeReadableBytes { raw in raw.contains { $0 != 0 } }
            if nonZero { return false }
            skip(buffer.readableBytes)
            if try !ensure(1) { return true }
        }
    }
}
