import KafkaProtocol
import NIOCore

/// Reads a capture record by record, streaming each segment in large chunks (memory stays around one
/// chunk plus the largest record, whatever the file size).
///
/// Opened on the first segment, it continues into `PATH.1`, `PATH.2`, ... for as long as they exist
/// and carry the same capture id and the expected segment index. A file that is there but does not
/// belong ends the capture and is reported in `ignoredSegment`.
///
/// Damage does not throw. A bad record with an intact record somewhere after it in the same segment
/// is skipped up to that record (resynchronisation) and listed in `corruptSpans`; reading goes on.
/// A bad record at the end (a write cut short) ends the capture: `next()` returns every record
/// before it, then nil, and `tornTail` says where and why. Records of types this build does not know are skipped by length
/// and counted in `skippedRecordTypes`. `next()` throws only for I/O errors.
public final class CaptureReader {
    /// The first segment's header.
    public let header: CaptureHeader
    /// The path the reader was opened with.
    public let path: String
    /// Paths of the segments opened so far.
    public private(set) var segmentPaths: [String]
    /// Where and why reading stopped early, once it has.
    public private(set) var tornTail: TornTail?
    /// A file named like the next segment that was not followed.
    public private(set) var ignoredSegment: IgnoredSegment?
    /// Records of unknown types skipped so far, by type.
    public private(set) var skippedRecordTypes: [CaptureRecordType: Int] = [:]
    /// Damaged spans skipped so far (the first `maxKeptCorruptSpans`; `corruptSpanCount` counts all).
    public private(set) var corruptSpans: [CorruptSpan] = []
    /// Damaged spans skipped so far.
    public private(set) var corruptSpanCount = 0
    /// Bytes in damaged spans skipped so far.
    public private(set) var corruptBytes: Int64 = 0
    /// Records returned so far.
    public private(set) var recordCount = 0
    /// The position of the record `next()` returned last.
    public private(set) var lastRecordPosition: CapturePosition?

    private let storage: any CaptureStorage
    private let followSegments: Bool
    private let chunkSize: Int
    private let basePath: String
    private var cursor: SegmentCursor?
    private var segmentIndex: UInt32

    /// Spans kept in `corruptSpans`; a file damaged all over must not make the list grow without bound.
    public static let maxKeptCorruptSpans = 1000

    /// The default read chunk: 1 MiB.
    public static let defaultChunkSize = 1 << 20

    /// Opens a capture and reads its file header.
    ///
    /// Throws `CaptureError` with kind `notACapture` ("not a KafkaTape capture: bad magic at offset 0"),
    /// `unsupportedVersion`, `truncatedHeader` or `corruptHeader` when the file is not a capture this
    /// build can read, and `io` when it cannot be opened (missing file: `ENOENT`).
    ///
    /// - Parameters:
    ///   - path: Any segment; reading continues with the segments after it.
    ///   - followSegments: Continue into `PATH.1`, `PATH.2`, ...
    ///   - storage: Where segments live; files by default.
    ///   - chunkSize: Bytes read per `read(2)`.
    public init(
        path: String, followSegments: Bool = true, storage: any CaptureStorage = FileCaptureStorage(),
        chunkSize: Int = CaptureReader.defaultChunkSize
    ) throws(CaptureError) {
        self.path = path
        self.storage = storage
        self.followSegments = followSegments
        self.chunkSize = max(4096, chunkSize)
        guard let source = try storage.openSegment(path: path) else {
            throw CaptureError(.io(operation: "open", errno: ENOENTCode), path: path)
        }
        let cursor = SegmentCursor(source: source, path: path, chunkSize: self.chunkSize)
        let header = try Self.readFileHeader(cursor)
        self.header = header
        self.cursor = cursor
        self.segmentIndex = header.segmentIndex
        self.segmentPaths = [path]
        self.basePath = CaptureFormat.basePath(ofSegment: path, index: header.segmentIndex)
    }

    /// The next record, or nil at the end of the capture (or at a torn tail: check `tornTail`).
    public func next() throws(CaptureError) -> CaptureRecord? {
        while let cursor {
            let start = cursor.offset
            guard try cursor.ensure(CaptureFormat.recordHeaderSize) else {
                if cursor.available == 0 {
                    try advanceSegment()
                    continue
                }
                try damaged(cursor, at: start, .truncatedRecordHeader(available: cursor.available), atEnd: true)
                continue
            }
            let bodyLength = Int(cursor.buffer.getInteger(at: cursor.buffer.readerIndex, endianness: .big, as: UInt32.self) ?? 0)
            let storedCRC = cursor.buffer.getInteger(at: cursor.buffer.readerIndex + 4, endianness: .big, as: UInt32.self) ?? 0
            guard bodyLength <= CaptureFormat.maxRecordBodySize else {
                try damaged(
                    cursor, at: start, .recordTooLarge(declared: bodyLength, limit: CaptureFormat.maxRecordBodySize),
                    atEnd: false)
                continue
            }
            let total = CaptureFormat.recordHeaderSize + bodyLength
            // The declared length is untrusted: compare it with the bytes the segment really has before
            // buffering (allocating) that much.
            let remaining = try cursor.remaining(atLeast: total)
            guard Int64(total) <= remaining, try cursor.ensure(total) else {
                let present = Int(min(remaining, Int64(cursor.available))) - CaptureFormat.recordHeaderSize
                try damaged(
                    cursor, at: start, .truncatedRecordBody(declared: bodyLength, available: max(0, present)),
                    atEnd: true)
                continue
            }
            let typeAndBody = cursor.buffer.getSlice(at: cursor.buffer.readerIndex + 8, length: 1 + bodyLength) ?? ByteBuffer()
            let computedCRC = CRC32C.checksum(typeAndBody)
            guard computedCRC == storedCRC else {
                try damaged(cursor, at: start, .checksumMismatch(stored: storedCRC, computed: computedCRC), atEnd: false)
                continue
            }
            let type = CaptureRecordType(rawValue: typeAndBody.getInteger(at: typeAndBody.readerIndex) ?? 0)
            let body = typeAndBody.getSlice(at: typeAndBody.readerIndex + 1, length: bodyLength) ?? ByteBuffer()
            let record: CaptureRecord?
            do {
                record = try CaptureRecord.decode(type: type, body: body)
            } catch {
                try damaged(cursor, at: start, .malformedRecord(type: type, detail: error.description), atEnd: false)
                continue
            }
            cursor.skip(total)
            guard let record else {
                skippedRecordTypes[type, default: 0] += 1
                continue
            }
            recordCount += 1
            lastRecordPosition = CapturePosition(segmentIndex: segmentIndex, offset: start)
            return record
        }
        return nil
    }

    /// Reads every remaining record into memory (for small captures and tests).
    public func readAll() throws(CaptureError) -> [CaptureRecord] {
        var out = [CaptureRecord]()
        while let r = try next() { out.append(r) }
        return out
    }

    /// Releases the open segment; `next()` then returns nil.
    public func close() {
        cursor = nil
    }

    // MARK: - Segments

    private func advanceSegment() throws(CaptureError) {
        cursor = nil
        guard followSegments else { return }
        let nextIndex = segmentIndex + 1
        let nextPath = CaptureFormat.segmentPath(base: basePath, index: nextIndex)
        guard let source = try storage.openSegment(path: nextPath) else { return }
        let next = SegmentCursor(source: source, path: nextPath, chunkSize: chunkSize)
        switch try checkContinuation(next, index: nextIndex) {
        case .belongs:
            segmentPaths.append(nextPath)
            segmentIndex = nextIndex
            cursor = next
        case .torn(let available):
            segmentPaths.append(nextPath)
            tornTail = TornTail(
                segmentIndex: nextIndex, path: nextPath, offset: 0, bytesDiscarded: Int64(available),
                reason: .truncatedFileHeader(available: available), kind: .interruptedWrite, recordsBefore: recordCount)
        case .foreign(let why):
            ignoredSegment = IgnoredSegment(path: nextPath, reason: why)
        }
    }

    private enum Continuation {
        case belongs
        case torn(available: Int)
        case foreign(String)
    }

    /// Whether `cursor` (positioned at offset 0) is segment `index` of this capture.
    private func checkContinuation(_ cursor: SegmentCursor, index: UInt32) throws(CaptureError) -> Continuation {
        do {
            let h = try Self.readFileHeader(cursor)
            if h.captureId != header.captureId {
                return .foreign("capture id \(h.captureId) differs from \(header.captureId)")
            }
            if h.segmentIndex != index {
                return .foreign("segment index \(h.segmentIndex), expected \(index)")
            }
            return .belongs
        } catch {
            switch error.kind {
            case .truncatedHeader(_, let available): return .torn(available: available)
            case .notACapture(let why) where why == Self.emptyFileReason: return .torn(available: 0)
            case .io: throw error
            default: return .foreign(error.message)
            }
        }
    }

    // MARK: - Damage

    /// A bad record at `offset`: skip to the next intact record of this segment if there is one, else
    /// to the next segment if the capture goes on, else stop with a torn tail.
    private func damaged(_ cursor: SegmentCursor, at offset: Int64, _ reason: TornTail.Reason, atEnd: Bool) throws(CaptureError) {
        let size = try cursor.source.size()
        let finder = RecordResynchronizer(source: cursor.source, segmentSize: size)
        if let resume = try finder.nextRecord(from: offset + 1) {
            noteCorruption(
                CorruptSpan(
                    segmentIndex: segmentIndex, path: cursor.path, offset: offset, length: resume - offset, reason: reason,
                    resumedInSegment: true))
            try cursor.reposition(to: resume)
            return
        }
        try stop(cursor, at: offset, reason, atEnd: atEnd)
        // A later segment of this capture follows: the rest of this one is damage, the capture goes on.
        if let torn = tornTail, torn.kind == .corruption, torn.segmentIndex == segmentIndex, followSegments,
            nextSegmentBelongs()
        {
            tornTail = nil
            noteCorruption(
                CorruptSpan(
                    segmentIndex: segmentIndex, path: torn.path, offset: offset, length: torn.bytesDiscarded, reason: reason,
                    resumedInSegment: false))
            try advanceSegment()
        }
    }

    private func noteCorruption(_ span: CorruptSpan) {
        corruptSpanCount += 1
        corruptBytes += span.length
        if corruptSpans.count < Self.maxKeptCorruptSpans { corruptSpans.append(span) }
    }

    private func nextSegmentBelongs() -> Bool {
        let nextPath = CaptureFormat.segmentPath(base: basePath, index: segmentIndex + 1)
        guard let source = try? storage.openSegment(path: nextPath) else { return false }
        let next = SegmentCursor(source: source, path: nextPath, chunkSize: 4096)
        if case .belongs? = try? checkContinuation(next, index: segmentIndex + 1) { return true }
        return false
    }

    private func stop(_ cursor: SegmentCursor, at offset: Int64, _ reason: TornTail.Reason, atEnd: Bool) throws(CaptureError) {
        let size = (try? cursor.source.size()) ?? offset + Int64(cursor.available)
        var interrupted = atEnd
        if !interrupted {
            // A bad record that runs exactly to the end of the segment, or is followed only by zero bytes
            // (a file system extended the file but the data never landed), is an interrupted write.
            switch reason {
            case .checksumMismatch, .malformedRecord:
                let length = cursor.buffer.getInteger(at: cursor.buffer.readerIndex, endianness: .big, as: UInt32.self) ?? 0
                let total = CaptureFormat.recordHeaderSize + Int(length)
                if offset + Int64(total) >= size {
                    interrupted = true
                } else {
                    cursor.skip(min(total, cursor.available))
                    interrupted = try cursor.restIsZero()
                }
            default:
                interrupted = try cursor.restIsZero()
            }
        }
        if interrupted && followSegments {
            // A later segment of this capture means the writer went on after this point.
            let nextPath = CaptureFormat.segmentPath(base: basePath, index: segmentIndex + 1)
            if let source = try storage.openSegment(path: nextPath) {
                let next = SegmentCursor(source: source, path: nextPath, chunkSize: 4096)
                if case .belongs = try checkContinuation(next, index: segmentIndex + 1) { interrupted = false }
            }
        }
        tornTail = TornTail(
            segmentIndex: segmentIndex, path: cursor.path, offset: offset, bytesDiscarded: max(0, size - offset),
            reason: reason, kind: interrupted ? .interruptedWrite : .corruption, recordsBefore: recordCount)
        self.cursor = nil
    }

    // MARK: - File header

    /// The `notACapture` reason for a zero-length file (a later segment like that is a torn rotation).
    static let emptyFileReason = "empty file"

    static func readFileHeader(_ cursor: SegmentCursor) throws(CaptureError) -> CaptureHeader {
        let path = cursor.path
        let magic = CaptureFormat.magic
        let prefix = CaptureFormat.fileHeaderPrefixSize
        _ = try cursor.ensure(prefix)
        let present = cursor.available
        if present == 0 { throw CaptureError(.notACapture(reason: emptyFileReason), path: path, offset: 0) }
        let head = cursor.buffer.getBytes(at: cursor.buffer.readerIndex, length: min(present, magic.count)) ?? []
        if let bad = zip(head, magic).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            var reason = "bad magic at offset \(bad)"
            if head.starts(with: magic[0..<5]) {
                reason += " (line endings were converted: the file went through a text-mode transfer)"
            }
            throw CaptureError(.notACapture(reason: reason), path: path, offset: Int64(bad))
        }
        if present < magic.count + 2 {
            throw CaptureError(.truncatedHeader(needed: prefix, available: present), path: path)
        }
        let version = cursor.buffer.getInteger(at: cursor.buffer.readerIndex + 8, endianness: .big, as: UInt16.self) ?? 0
        guard version == CaptureFormat.version else {
            throw CaptureError(.unsupportedVersion(found: version, supported: CaptureFormat.version), path: path, offset: 8)
        }
        if present < prefix {
            throw CaptureError(.truncatedHeader(needed: prefix, available: present), path: path)
        }
        let length = Int(cursor.buffer.getInteger(at: cursor.buffer.readerIndex + 10, endianness: .big, as: UInt32.self) ?? 0)
        let storedCRC = cursor.buffer.getInteger(at: cursor.buffer.readerIndex + 14, endianness: .big, as: UInt32.self) ?? 0
        guard length <= CaptureFormat.maxHeaderBodySize else {
            throw CaptureError(
                .corruptHeader("header length \(length) exceeds the \(CaptureFormat.maxHeaderBodySize)-byte limit"),
                path: path, offset: 10)
        }
        guard try cursor.ensure(prefix + length) else {
            throw CaptureError(.truncatedHeader(needed: prefix + length, available: cursor.available), path: path)
        }
        let body = cursor.buffer.getSlice(at: cursor.buffer.readerIndex + prefix, length: length) ?? ByteBuffer()
        let computed = CRC32C.checksum(body)
        guard computed == storedCRC else {
            throw CaptureError(
                .corruptHeader("CRC mismatch (stored 0x\(hex32(storedCRC)), computed 0x\(hex32(computed)))"),
                path: path, offset: 14)
        }
        let header: CaptureHeader
        do {
            header = try CaptureHeader(decodingBody: body)
        } catch {
            throw CaptureError(.corruptHeader(error.description), path: path, offset: Int64(prefix + error.offset))
        }
        cursor.skip(prefix + length)
        return header
    }
}
