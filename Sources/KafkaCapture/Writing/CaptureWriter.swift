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
    /// Frame payloads of at least this many bytes are not copied into `buffer` but written from their
    /// own memory with `writev(2)` (nil: every record is copied).
    private let vectoredMinPayload: Int?
    /// What goes out before the rest of `buffer`, in order: ranges of `buffer` (offsets from its
    /// reader index) and referenced payloads.
    private var parts: [Part] = []
    /// Offset in `buffer` up to which its bytes are already in `parts`.
    private var stagedUpTo = 0
    /// Bytes held in `.payload` parts.
    private var payloadBytes = 0

    private enum Part {
        case staged(Range<Int>)
        case payload(ByteBuffer)
    }

    /// Off by default: measured side by side (`tools/bench-codec capture`, release build, 2-core VM,
    /// December 2026), writing payloads in place with writev was 0.62-0.99x the speed of copying them
    /// for 256 B-64 KiB frames, hot or cold payloads, and within noise (0.95-1.10x) at 1 MiB: the
    /// kernel's copy into the page cache and the per-iovec cost outweigh the saved `memcpy`. Kept as
    /// an option (and a byte-identical one, tested) for machines where it measures faster.
    public static let defaultVectoredMinPayload: Int? = nil
    /// Parts per `writev`, well under IOV_MAX (1024); the gathering recurses once per part.
    static let maxParts = 512

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
    ///   - vectoredMinPayload: Frame payloads this large or larger are written from their own memory
    ///     (`writev`) instead of being copied into the write buffer; nil copies everything.
    ///   - publishLater: Write the first segment under a temporary name and move it to `path` only at
    ///     `staging.publish()` (or the first rotation); `close()` before that removes it and leaves
    ///     `path` as it was. For a recorder that must not touch an existing capture until it listens.
    public init(
        path: String, header: CaptureHeader, rotateBytes: Int? = nil, overwrite: Bool = false,
        bufferSize: Int = CaptureWriter.defaultBufferSize, storage: any CaptureStorage = FileCaptureStorage(),
        vectoredMinPayload: Int? = CaptureWriter.defaultVectoredMinPayload, publishLater: Bool = false
    ) throws(CaptureError) {
        self.vectoredMinPayload = vectoredMinPayload
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
        if pendingBytes > 0 && pendingBytes + size > bufferSize {
            try guarded { () throws(CaptureError) in try writeBuffer() }
        }
        if let min = vectoredMinPayload, case .frame(let f) = record, f.payload.readableBytes >= min {
            // The record's head goes to the buffer, its payload is referenced: no copy of the payload.
            if let payload = try record.encodeLeavingPayload(into: &buffer) {
                parts.append(.staged(stagedUpTo..<buffer.readableBytes))
                stagedUpTo = buffer.readableBytes
                parts.append(.payload(payload))
                payloadBytes += payload.readableBytes
            }
        } else {
            try record.encode(into: &buffer)
        }
        bufferedRecords += 1
        segmentBytes += size
        segmentRecords += 1
        bytesWritten += Int64(size)
        recordCount += 1
        if pendingBytes >= bufferSize || parts.count >= Self.maxParts {
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
    public var bufferedBytes: Int { pendingBytes }

    private var pendingBytes: Int { buffer.readableBytes + payloadBytes }

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
            clearPending()
            lostRecordCount += bufferedRecords
            bufferedRecords = 0
            throw error
        }
    }

    private func clearPending() {
        buffer.clear()
        parts.removeAll(keepingCapacity: true)
        stagedUpTo = 0
        payloadBytes = 0
    }

    private func writeBuffer() throws(CaptureError) {
        guard pendingBytes > 0, let sink else { return }
        if parts.isEmpty {
            try buffer.withUnsafeReadableBytes { (raw) throws(CaptureError) in try sink.write(raw) }
        } else {
            try buffer.withUnsafeReadableBytes { (staged) throws(CaptureError) in
                var pointers: [UnsafeRawBufferPointer] = []
                pointers.reserveCapacity(parts.count + 1)
                try gather(from: 0, staged: staged, into: &pointers) { (all) throws(CaptureError) in try sink.write(vectored: all) }
            }
        }
        clearPending()
        bufferedRecords = 0
        // A huge record grew the buffer; do not keep the memory.
        if buffer.capacity > 4 * bufferSize {
            buffer = ByteBufferAllocator().buffer(capacity: bufferSize)
        }
    }

    /// Collects pointers to every part (each payload's memory is valid only inside its closure, hence
    /// the recursion, one level per part) and hands them to `body`.
    private func gather(
        from i: Int, staged: UnsafeRawBufferPointer, into pointers: inout [UnsafeRawBufferPointer],
        _ body: ([UnsafeRawBufferPointer]) throws(CaptureError) -> Void
    ) throws(CaptureError) {
        guard i < parts.count else {
            if stagedUpTo < staged.count { pointers.append(UnsafeRawBufferPointer(rebasing: staged[stagedUpTo...])) }
            try body(pointers)
            return
        }
        switch parts[i] {
        case .staged(let range):
            if !range.isEmpty { pointers.append(UnsafeRawBufferPointer(rebasing: staged[range])) }
            try gather(from: i + 1, staged: staged, into: &pointers, body)
        case .payload(let payload):
            try payload.withUnsafeReadableBytes { (raw) throws(CaptureError) in
                pointers.append(raw)
                try gather(from: i + 1, staged: staged, into: &pointers, body)
            }
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
