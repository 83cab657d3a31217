/// Damaged bytes in the middle of a capture that a reader skipped: a bad record with valid records
/// after it. The reader resumed at `offset + length`, the start of the next record whose header,
/// length and CRC check out.
public struct CorruptSpan: Hashable, Sendable, CustomStringConvertible {
    /// The segment (0 for the first file).
    public var segmentIndex: UInt32
    /// The segment's path.
    public var path: String
    /// Offset in the segment of the first skipped byte (the start of the bad record).
    public var offset: Int64
    /// Bytes skipped.
    public var length: Int64
    /// What was wrong with the record at `offset`.
    public var reason: TornTail.Reason
    /// Whether reading resumed in this segment (false: the rest of the segment was skipped and reading
    /// went on in the next one).
    public var resumedInSegment: Bool

    /// One line: path, offset, segment, reason, bytes skipped, where reading resumed.
    public var description: String {
        let resumed = resumedInSegment ? "resumed at offset \(offset + length)" : "resumed in the next segment"
        return "\(path): corruption at offset \(offset) (segment \(segmentIndex)): \(reason); "
            + "skipped \(length) bytes, \(resumed)"
    }
}
