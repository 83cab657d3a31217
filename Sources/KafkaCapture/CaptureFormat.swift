/// Constants of the capture file format, version 1 (see `docs/capture-format.md`).
///
/// A capture is one or more segment files. Each starts with a file header (magic, format version,
/// a length-prefixed CRC-32C-protected header body) followed by append-only records, each framed
/// as `length (u32) | crc32c (u32) | type (u8) | body`, big-endian.
public enum CaptureFormat {
    /// The 8 bytes every segment starts with: `KTAPE`, CR, LF, SUB (0x1A). A text-mode transfer that
    /// rewrites line endings, or a `type`/`cat` on a terminal that stops at SUB, changes or cuts them.
    public static let magic: [UInt8] = [0x4B, 0x54, 0x41, 0x50, 0x45, 0x0D, 0x0A, 0x1A]

    /// The format version this module writes, and the only one it reads.
    public static let version: UInt16 = 1

    /// Bytes before the header body: magic (8), version (2), body length (4), body CRC (4).
    public static let fileHeaderPrefixSize = 18

    /// Bytes before a record body: body length (4), CRC (4), type (1).
    public static let recordHeaderSize = 9

    /// The largest record body a writer produces or a reader accepts (1 GiB). A larger declared
    /// length is treated as corruption rather than allocated.
    public static let maxRecordBodySize = 1 << 30

    /// The largest header body a reader accepts (1 MiB).
    public static let maxHeaderBodySize = 1 << 20

    /// The path of segment `index` of the capture whose first segment is `basePath`:
    /// `basePath` for segment 0, `basePath.1`, `basePath.2`, ... after that.
    public static func segmentPath(base basePath: String, index: UInt32) -> String {
        index == 0 ? basePath : "\(basePath).\(index)"
    }

    /// The first-segment path for a segment path and its index: strips a `.N` suffix that matches
    /// `index`, so opening `cap.ktape.2` still finds `cap.ktape.3`.
    static func basePath(ofSegment path: String, index: UInt32) -> String {
        guard index > 0 else { return path }
        let suffix = ".\(index)"
        guard path.hasSuffix(suffix), path.count > suffix.count else { return path }
        return String(path.dropLast(suffix.count))
    }
}
