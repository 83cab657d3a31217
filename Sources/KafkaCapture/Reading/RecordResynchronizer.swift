import KafkaProtocol

/// Finds the next intact record after damage in a segment, reading with `pread` so the reader's
/// position and buffer are untouched and memory stays at two small windows whatever the lengths the
/// damaged bytes declare.
///
/// A candidate position must hold a known record type, a body length of at least a timestamp that
/// fits in the segment, and be followed either by the exact end of the segment or by another
/// plausible record header; only then is its CRC computed (streamed). These filters keep the scan
/// close to linear: random bytes pass them about once in ten thousand positions.
struct RecordResynchronizer {
    let source: any CaptureSegmentSource
    let segmentSize: Int64

    static let window = 1 << 20
    static let crcChunk = 64 << 10

    /// The offset of the first intact record at or after `start`, or nil when there is none.
    func nextRecord(from start: Int64) throws(CaptureError) -> Int64? {
        let header = CaptureFormat.recordHeaderSize
        var base = start
        var window = [UInt8](repeating: 0, count: Self.window + header)
        while base + Int64(header) + 16 <= segmentSize {
            let got = try readFully(at: base, into: &window)
            guard got >= header else { return nil }
            let positions = min(Self.window, got - header + 1)
            for i in 0..<positions {
                guard isPlausibleHeader(window, at: i, fileOffset: base + Int64(i)) else { continue }
                if try verify(at: base + Int64(i)) { return base + Int64(i) }
            }
            base += Int64(positions)
        }
        return nil
    }

    private func isPlausibleHeader(_ w: [UInt8], at i: Int, fileOffset: Int64) -> Bool {
        let type = w[i + 8]
        guard CaptureRecordType(rawValue: type).isKnown else { return false }
        let length = Int64(w[i]) << 24 | Int64(w[i + 1]) << 16 | Int64(w[i + 2]) << 8 | Int64(w[i + 3])
        return length >= 16 && length <= Int64(CaptureFormat.maxRecordBodySize)
            && fileOffset + Int64(CaptureFormat.recordHeaderSize) + length <= segmentSize
    }

    /// Whether the record at `offset` is followed by the end of the segment or a plausible header, and
    /// its CRC matches.
    private func verify(at offset: Int64) throws(CaptureError) -> Bool {
        let header = CaptureFormat.recordHeaderSize
        var head = [UInt8](repeating: 0, count: header)
        guard try readFully(at: offset, into: &head) == header else { return false }
        let length = Int64(head[0]) << 24 | Int64(head[1]) << 16 | Int64(head[2]) << 8 | Int64(head[3])
        let end = offset + Int64(header) + length
        if end != segmentSize {
            var after = [UInt8](repeating: 0, count: header)
            guard try readFully(at: end, into: &after) == header, isPlausibleHeader(after, at: 0, fileOffset: end) else {
                return false
            }
        }
        let stored = UInt32(head[4]) << 24 | UInt32(head[5]) << 16 | UInt32(head[6]) << 8 | UInt32(head[7])
        var crc = head.withUnsafeBytes { raw in CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[8..<9])) }
        var position = offset + Int64(header)
        var chunk = [UInt8](repeating: 0, count: Self.crcChunk)
        while position < end {
            let want = Int(min(Int64(Self.crcChunk), end - position))
            let got = try read(at: position, into: &chunk, range: 0..<want)
            guard got > 0 else { return false }
            crc = chunk.withUnsafeBytes { raw in CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: raw[0..<got])) }
            position += Int64(got)
        }
        return crc == stored
    }

    private func readFully(at offset: Int64, into buffer: inout [UInt8]) throws(CaptureError) -> Int {
        var total = 0
        let count = buffer.count
        while total < count {
            let got = try read(at: offset + Int64(total), into: &buffer, range: total..<count)
            if got == 0 { break }
            total += got
        }
        return total
    }

    /// One positioned read into part of `buffer` (typed throws do not pass through
    /// `withUnsafeMutableBytes`, so the error is carried out by hand).
    private func read(at offset: Int64, into buffer: inout [UInt8], range: Range<Int>) throws(CaptureError) -> Int {
        var failure: CaptureError?
        let source = self.source
        let got = buffer.withUnsafeMutableBytes { raw -> Int in
            do throws(CaptureError) {
                return try source.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: raw[range]))
            } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
        return got
    }
}
