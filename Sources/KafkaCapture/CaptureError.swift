#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to create, write, open or read a capture. `description` is one line naming the file.
public struct CaptureError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Hashable, Sendable {
        /// The file does not start with the capture magic (`reason` says what was found).
        case notACapture(reason: String)
        /// The format version is not one this reader understands.
        case unsupportedVersion(found: UInt16, supported: UInt16)
        /// The file ends inside the file header.
        case truncatedHeader(needed: Int, available: Int)
        /// The header body's CRC-32C does not match, or its fields do not parse.
        case corruptHeader(String)
        /// Creating the capture would replace an existing file and `overwrite` was not set.
        case fileExists
        /// Another writer (another `kafkatape record`, or another writer in this process) holds the
        /// file locked: it is being written.
        case locked
        /// A system call failed; `errno` is the C error number.
        case io(operation: String, errno: Int32)
        /// A record larger than `CaptureFormat.maxRecordBodySize`, or with a field too long for
        /// its length prefix.
        case recordTooLarge(bodySize: Int, limit: Int)
        /// The writer was closed.
        case closed
        /// An earlier write failed; the writer accepts nothing more. Carries the first error.
        case failed(previous: String)
        /// A record read again by position (after a first pass over the capture) is no longer there
        /// or no longer intact: the file changed between the two reads.
        case changed(String)
    }

    /// What went wrong.
    public var kind: Kind
    /// The file concerned, when there is one.
    public var path: String?
    /// The byte offset in `path` where the problem was found, when it has one.
    public var offset: Int64?

    /// An error of `kind` about `path`, at `offset` when known.
    public init(_ kind: Kind, path: String? = nil, offset: Int64? = nil) {
        self.kind = kind
        self.path = path
        self.offset = offset
    }

    /// The message without the path.
    public var message: String {
        switch kind {
        case .notACapture(let reason): return "not a KafkaTape capture: \(reason)"
        case .unsupportedVersion(let found, let supported):
            return "unsupported capture format version \(found) (this build reads version \(supported))"
        case .truncatedHeader(let needed, let available):
            return "capture file header truncated: needed \(needed) bytes, file has \(available)"
        case .corruptHeader(let why): return "corrupt capture file header: \(why)"
        case .fileExists: return "file exists (refusing to overwrite it)"
        case .locked: return "in use by another capture writer (locked); refusing to write to it"
        case .io(let operation, let errno): return "\(operation) failed: \(Self.errnoDescription(errno))"
        case .recordTooLarge(let size, let limit):
            return "record body of \(size) bytes exceeds the \(limit)-byte limit"
        case .closed: return "capture writer is closed"
        case .failed(let previous): return "capture writer stopped after an earlier error: \(previous)"
        case .changed(let what): return "capture changed while it was being read: \(what)"
        }
    }

    /// One line: `PATH: message`.
    public var description: String {
        var s = ""
        if let path { s += "\(path): " }
        s += message
        if let offset, !message.contains("offset") { s += " (at offset \(offset))" }
        return s
    }

    /// The C errno for an I/O failure (`ENOSPC` for a full disk), nil for other kinds.
    public var errno: Int32? {
        if case .io(_, let e) = kind { return e }
        return nil
    }

    static func errnoDescription(_ code: Int32) -> String {
        // The words people search for; strerror's capitalised text for the rest.
        if code == EACCES || code == EPERM { return "permission denied (errno \(code))" }
        guard let s = strerror(code) else { return "errno \(code)" }
        return "\(String(cString: s)) (errno \(code))"
    }
}
