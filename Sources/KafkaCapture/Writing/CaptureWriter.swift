import NIOCore

/// Writes a capture: a file header, then records, buffered and appended. Use from one thread at a
/// time (`AsyncCaptureWriter` wraps one for use from many).
///
/// With `rotateBytes`, a record that would take the current segment past that size starts a new
/// segment first (`PATH.1`, `PATH.2`, ...), each with its own file header, the same capture id and
/// the next segment index; a record never spans segments, and a segment exceeds `rotateBytes` only
/// when a single record does.
///
/// After an I/O error (a full disk) the writer is failed: every later call throws
/// `CaptureError.Kind.failed`; what reached the file before the error stays readable.
public final class CaptureWriter {
    /// The header of segment 0 (later segments differ only in `segmentIndex`).
    public let header: CaptureHeader
    /// The path of the first segment.
    public let path: String
    /// Size at which a new segment starts, if rotating.
    public let rotateBytes: Int?
    /// Paths of the segments created so far, first to last.
    public private(set) var segmentPaths: [String] = []
    /// Bytes of capture produced so far in all segments (file headers and records), including bytes
    /// still in the write buffer.
    public private(set) var bytesWritten: Int64 = 0
    /// Records appended so far.
    public private(set) var recordCount: Int = 0
    /// The error that failed the writer, if one did.
    public private(set) var failure: CaptureError?
    /// Records that were in the write buffer when a write failed. Some may have reached the file
    /// whole before the error; a reader's `tornTail` shows exactly where the readable capture ends.
    public private(set) var lostRecordCount = 0

    /// Where the first segment is until the capture is published (see `publishLater`).
    public private(set) var staging: CaptureStaging
    private let storage: any CaptureStorage
    private let overwrite: Bool
    private let publishLater: Bool
    private let bufferSize: Int
    private var buffer: ByteBuffer
    private var sink: (any CaptureSegmentSink)?
    /// The first segment, kept open (and so locked) after rotation until `close()`: the capture's
    /// path stays claimed for the writer's whole life, not only while it writes there.
    private var firstSegment: (any CaptureSegmentSink)?
    private var segmentIndex: UInt32 = 0
    private var segmentBytes = 0
    private var segmentRecords = 0
    private var bufferedRecords = 0
    private var closed = false

    /// The default write buffer: 256 KiB, written with one `write(2)` when full or flushed.
    public static let defaultBufferSize = 256 * 1024

    /// Creates the capture's first segment and writes its file header (unbuffered, so even a capture
    /// killed before its first flush has a valid header).
    ///
    /// - Parameters:
    ///   - path: The first segment; later segments are `path.1`, `path.2`, ...
    ///   - header: The capture header; its `segmentIndex` is ignored (the writer numbers segments).
    ///   - rotateBytes: Start a new segment before a record would take the current one past this size.
    ///   - overwrite: Replace existing files instead of failing with `fileExists`.
    ///   - bufferSize: Bytes buffered before a `write(2)`.
    ///   - storage: Where segments go; files by default (mode 0600).
    ///   - publishLater: Write the first segment under a temporary name and move it to `path` only at
    ///     `staging.publish()` (or the first rotation); `close()` before that removes it and leaves
    ///     `path` as it was. For a recorder that must not touch an existing capture until it listens.
    public init(
        path: String, header: CaptureHeader, rotateBytes: Int? = nil, overwrite: Bool = false,
        bufferSize: Int = CaptureWriter.defaultBufferSize, storage: any CaptureStorage = FileCaptureStorage(),
        publishLater: Bool = false
    ) throws(CaptureError) {
        var header = header
        header.segmentIndex = 0
        self.header = header
        self.path = path
        self.rotateBytes = rotateBytes.map { max(1, $0) }
        self.overwrite = overwrite
        self.publishLater = publishLater
        self.staging = CaptureStaging(published: path)
        self.bufferSize = max(4096, bufferSize)
        self.storage = storage
        self.buffer = ByteBufferAllocator().buffer(capacity: self.bufferSize)
        // Refuse up front rather than at the first rotation, hours into a capture.
        if rotateBytes != nil && !overwrite {
            let next = CaptureFormat.segmentPath(base: path, index: 1)
            if let existing = try storage.openSegment(path: next) {
                existing.close()
                throw CaptureError(.fileExists, path: next)
            }
        }
        try openSegment(index: 0)
    }

    deinit {
        // Best effort for a writer dropped without close(): keep what was appended.
        if !closed {
            try? close()
        }
    }

    /// Appends one record (buffered). Throws `recordTooLarge` for a record beyond the format's limit
    /// (the writer stays usable), or an I/O error (the writer is then failed).
    public func append(_ record: CaptureRecord) throws(CaptureError) {
        try checkUsable()
        let size = record.encodedSize
        if let rotateBytes, segmentRecords > 0, segmentBytes + size > rotateBytes {
            try guarded { () throws(CaptureError) in try rotate() }
        }
        if buffer.readableBytes > 0 && buffer.readableBytes + size > bufferSize {
            try guarded { () throws(CaptureError) in try writeBuffer() }
        }
        try record.encode(into: &buffer)
        bufferedRecords += 1
        segmentBytes += size
        segmentRecords += 1
        bytesWritten += Int64(size)
        recordCount += 1
        if buffer.readableBytes >= bufferSize {
            try guarded { () throws(CaptureError) in try writeBuffer() }
        }
    }

    /// Hands buffered bytes to the operating system (`write(2)`); they survive the process being
    /// killed, not necessarily a power loss.
    public func flush() throws(CaptureError) {
        try checkUsable()
        try guarded { () throws(CaptureError) in try writeBuffer() }
    }

    /// Flushes and makes the current segment durable (`fsync`).
    public func sync() throws(CaptureError) {
        try flush()
        try guarded { () throws(CaptureError) in try sink?.synchronize() }
    }

    /// Bytes appended but not yet handed to the operating system.
    public var bufferedBytes: Int { buffer.readableBytes }

    /// Flushes, syncs and closes the current segment. Closing again does nothing. When the writer
    /// failed earlier, releases the file and throws that failure.
    public func close() throws(CaptureError) {
        guard !closed else { return }
        closed = true
        defer {
            try? firstSegment?.close()
            firstSegment = nil
        }
        if let failure {
            try? sink?.close()
            sink = nil
            staging.discard()
            throw failure
        }
        do {
            try writeBuffer()
            try sink?.synchronize()
            try sink?.close()
            sink = nil
            // Never published: the capture never started, and `path` keeps what it had.
            staging.discard()
        } catch {
            try? sink?.close()
            sink = nil
            staging.discard()
            failure = error
            lostRecordCount += bufferedRecords
            bufferedRecords = 0
            throw error
        }
    }

    // MARK: - Internals

    private func checkUsable() throws(CaptureError) {
        if let failure { throw CaptureError(.failed(previous: failure.description), path: failure.path ?? path) }
        if closed { throw CaptureError(.closed, path: path) }
    }

    /// Runs an I/O step; an error fails the writer.
    private func guarded(_ body: () throws(CaptureError) -> Void) throws(CaptureError) {
        do {
            try body()
        } catch {
            failure = error
            buffer.clear()
            lostRecordCount += bufferedRecords
            bufferedRecords = 0
            throw error
        }
    }

    private func writeBuffer() throws(CaptureError) {
        guard buffer.readableBytes > 0, let sink else { return }
        try buffer.withUnsafeReadableBytes { (raw) throws(CaptureError) in try sink.write(raw) }
        buffer.clear()
        bufferedRecords = 0
        // A huge record grew the buffer; do not keep the memory.
        if buffer.capacity > 4 * bufferSize {
            buffer = ByteBufferAllocator().buffer(capacity: bufferSize)
        }
    }

    private func openSegment(index: UInt32) throws(CaptureError) {
        let segmentPath = CaptureFormat.segmentPath(base: path, index: index)
        let newSink: any CaptureSegmentSink
        if index == 0 && publishLater {
            (newSink, staging) = try storage.createStagedSegment(path: segmentPath, overwrite: overwrite)
        } else {
            newSink = try storage.createSegment(path: segmentPath, overwrite: overwrite)
        }
        var h = header
        h.segmentIndex = index
        let bytes = h.encodedFileHeader()
        do {
            try bytes.withUnsafeReadableBytes { (raw) throws(CaptureError) in try newSink.write(raw) }
        } catch {
            try? newSink.close()
            if index == 0 { staging.discard() }
            throw error
        }
        sink = newSink
        segmentIndex = index
        segmentPaths.append(segmentPath)
        segmentBytes = bytes.readableBytes
        segmentRecords = 0
        bytesWritten += Int64(bytes.readableBytes)
    }

    private func rotate() throws(CaptureError) {
        // PATH.1 next to nothing would be a capture without its start.
        try staging.publish()
        try writeBuffer()
        if let sink {
            try sink.synchronize()
            if segmentIndex == 0 { firstSegment = sink } else { try sink.close() }
        }
        sink = nil
        try openSegment(index: segmentIndex + 1)
    }
}
