/// Where and why a reader stopped before the end of a capture's bytes.
///
/// A capture whose writer was killed mid-write (`kill -9`, a crash, a full disk) ends with an
/// incomplete record: `kind` is `.interruptedWrite`. A bad record followed by non-zero bytes that hold
/// no intact record is `.corruption`. A bad record with an intact record after it is not a torn tail:
/// the reader skips to that record and reports a `CorruptSpan`. (`Reason` describes both.)
public struct TornTail: Hashable, Sendable, CustomStringConvertible {
    /// What was wrong with the bytes at `offset`.
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        /// A later segment's file header is incomplete (the writer died while rotating).
        case truncatedFileHeader(available: Int)
        /// Fewer than the 9 bytes of a record header remain.
        case truncatedRecordHeader(available: Int)
        /// The record's body runs past the end of the segment.
        case truncatedRecordBody(declared: Int, available: Int)
        /// The declared body length exceeds `CaptureFormat.maxRecordBodySize`.
        case recordTooLarge(declared: Int, limit: Int)
        /// The CRC-32C of type and body does not match the stored one.
        case checksumMismatch(stored: UInt32, computed: UInt32)
        /// The CRC matched but the body does not parse as its type says.
        case malformedRecord(type: CaptureRecordType, detail: String)

        /// One line, for people.
        public var description: String {
            switch self {
            case .truncatedFileHeader(let n): return "segment file header truncated (\(n) bytes present)"
            case .truncatedRecordHeader(let n): return "record header truncated (\(n) of 9 bytes present)"
            case .truncatedRecordBody(let declared, let available):
                return "record body truncated (declared \(declared) bytes, \(available) present)"
            case .recordTooLarge(let declared, let limit):
                return "record length \(declared) exceeds the \(limit)-byte limit"
            case .checksumMismatch(let stored, let computed):
                return "record CRC mismatch (stored 0x\(hex32(stored)), computed 0x\(hex32(computed)))"
            case .malformedRecord(let type, let detail): return "malformed \(type) record: \(detail)"
            }
        }
    }

    /// Whether this looks like an interrupted write or like damage.
    public enum Kind: Hashable, Sendable {
        /// The bad bytes run to the end of the capture (or are all zero, as a file system leaves a
        /// file extended but not written): the writer was interrupted. Expected after `kill -9`.
        case interruptedWrite
        /// Non-zero data without an intact record follows the bad record: the file was damaged.
        case corruption
    }

    /// The segment (0 for the first file).
    public var segmentIndex: UInt32
    /// The segment's path.
    public var path: String
    /// Offset in the segment of the first byte not returned (the start of the bad record).
    public var offset: Int64
    /// Bytes from `offset` to the end of that segment.
    public var bytesDiscarded: Int64
    /// What was wrong.
    public var reason: Reason
    /// Interrupted write or corruption.
    public var kind: Kind
    /// Records returned before the reader stopped (all segments).
    public var recordsBefore: Int

    /// One line: path, kind, offset, segment, reason, bytes discarded.
    public var description: String {
        let what = kind == .interruptedWrite ? "torn tail" : "corruption"
        return "\(path): \(what) at offset \(offset) (segment \(segmentIndex)): \(reason); "
            + "\(bytesDiscarded) bytes discarded after \(recordsBefore) records"
    }
}

/// A record's place in a capture.
public struct CapturePosition: Hashable, Sendable, CustomStringConvertible {
    /// The segment (0 for the first file).
    public var segmentIndex: UInt32
    /// Byte offset of the record's length field in its segment.
    public var offset: Int64

    /// A position.
    public init(segmentIndex: UInt32, offset: Int64) {
        self.segmentIndex = segmentIndex
        self.offset = offset
    }

    /// `@OFFSET`, or `@SEGMENT:OFFSET` after the first segment.
    public var description: String { segmentIndex == 0 ? "@\(offset)" : "@\(segmentIndex):\(offset)" }
}

/// A file named like the capture's next segment that the reader did not follow.
public struct IgnoredSegment: Hashable, Sendable, CustomStringConvertible {
    /// The file's path.
    public var path: String
    /// Why it was not read: another capture's id, an unexpected segment index, a bad header.
    public var reason: String

    /// One line, for people.
    public var description: String { "\(path): not read as part of this capture: \(reason)" }
}

func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
