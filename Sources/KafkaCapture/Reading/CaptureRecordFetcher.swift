import KafkaProtocol
import NIOCore

/// Reads single records by their position (`CapturePosition`), for tools that make one streaming
/// pass to index a capture and then come back for the frames they need (`diff` compares exchanges
/// in alignment order, not file order), so that no more than a window of the file is in memory.
///
/// Each segment keeps one read window (`windowSize` bytes, or one record when larger); positions
/// visited in roughly file order are served from it. Every record is checked again (length against
/// the file, CRC-32C, body) because the file may have changed since it was indexed.
public final class CaptureRecordFetcher {
    /// The default window per segment: 256 KiB.
    public static let defaultWindowSize = 256 << 10

    private let storage: any CaptureStorage
    private let segmentPaths: [UInt32: String]
    private let windowSize: Int
    private var sources: [UInt32: any CaptureSegmentSource] = [:]
    private var windows: [UInt32: (start: Int64, bytes: ByteBuffer)] = [:]

    /// A fetcher over the segments a reader followed (`CaptureReader.segmentPaths`, the first being
    /// segment `firstSegmentIndex`).
    public init(
        segmentPaths: [String], firstSegmentIndex: UInt32, storage: any CaptureStorage = FileCaptureStorage(),
        windowSize: Int = CaptureRecordFetcher.defaultWindowSize
    ) {
        var paths: [UInt32: String] = [:]
        for (i, path) in segmentPaths.enumerated() { paths[firstSegmentIndex + UInt32(i)] = path }
        self.segmentPaths = paths
        self.storage = storage
        self.windowSize = max(4096, windowSize)
    }

    deinit {
        for source in sources.values { source.close() }
    }

    /// The record at `position`. Throws `.changed` when it is not an intact record any more.
    public func record(at position: CapturePosition) throws(CaptureError) -> CaptureRecord {
        let segment = position.segmentIndex
        guard let path = segmentPaths[segment] else {
            throw CaptureError(.changed("no segment \(segment)"), path: nil, offset: position.offset)
        }
        func changed(_ what: String) -> CaptureError {
            CaptureError(.changed("\(what) at \(position)"), path: path, offset: position.offset)
        }
        let header = try bytes(segment, path: path, at: position.offset, count: CaptureFormat.recordHeaderSize)
        guard let bodyLength = header.getInteger(at: header.readerIndex, endianness: .big, as: UInt32.self).map(Int.init),
            let storedCRC = header.getInteger(at: header.readerIndex + 4, endianness: .big, as: UInt32.self),
            bodyLength <= CaptureFormat.maxRecordBodySize
        else { throw changed("no record header") }
        let typeAndBody = try bytes(segment, path: path, at: position.offset + 8, count: 1 + bodyLength)
        guard typeAndBody.readableBytes == 1 + bodyLength else { throw changed("record cut short") }
        guard CRC32C.checksum(typeAndBody) == storedCRC else { throw changed("checksum mismatch") }
        let type = CaptureRecordType(rawValue: typeAndBody.getInteger(at: typeAndBody.readerIndex) ?? 0)
        let body = typeAndBody.getSlice(at: typeAndBody.readerIndex + 1, length: bodyLength) ?? ByteBuffer()
        let decoded: CaptureRecord?
        do {
            decoded = try CaptureRecord.decode(type: type, body: body)
        } catch {
            throw changed("malformed record: \(error.description)")
        }
        guard let record = decoded else { throw changed("unknown record type") }
        return record
    }

    /// `count` bytes at `offset` of a segment (fewer at the end of the file), from the segment's
    /// window, refilled when it does not cover them. The size is checked before allocating: a
    /// length field that changed cannot make the fetcher allocate more than the file holds.
    private func bytes(_ segment: UInt32, path: String, at offset: Int64, count: Int) throws(CaptureError) -> ByteBuffer {
        if let w = windows[segment], offset >= w.start, offset + Int64(count) <= w.start + Int64(w.bytes.readableBytes) {
            return w.bytes.getSlice(at: w.bytes.readerIndex + Int(offset - w.start), length: count) ?? ByteBuffer()
        }
        let source: any CaptureSegmentSource
        if let open = sources[segment] {
            source = open
        } else {
            guard let opened = try storage.openSegment(path: path) else {
                throw CaptureError(.changed("segment is gone"), path: path, offset: offset)
            }
            sources[segment] = opened
            source = opened
        }
        let available = max(0, try source.size() - offset)
        let length = Int(min(available, Int64(max(windowSize, count))))
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        var failure: CaptureError?
        var filled = 0
        while filled < length, failure == nil {
            let got = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 0) { ptr -> Int in
                do throws(CaptureError) {
                    return try source.read(at: offset + Int64(filled), into: UnsafeMutableRawBufferPointer(rebasing: ptr[..<min(ptr.count, length - filled)]))
                } catch {
                    failure = error
                    return 0
                }
            }
            if got == 0 { break }
            filled += got
        }
        if let failure { throw failure }
        windows[segment] = (offset, buffer)
        return buffer.getSlice(at: buffer.readerIndex, length: min(count, buffer.readableBytes)) ?? ByteBuffer()
    }
}
