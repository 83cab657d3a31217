/// A record whose content disagrees with an earlier sighting of the same offset.
public struct RecordMismatch: Sendable {
    /// Which two sightings disagree.
    public enum Kind: Sendable {
        /// A fetched record differs from what the Produce assigned this offset carried.
        case fetchedVsProduced
        /// A fetched record differs from what an earlier Fetch returned at this offset.
        case fetchedVsFetched
    }

    /// Produced versus fetched, or fetched versus fetched.
    public var kind: Kind
    /// Where.
    public var partition: TopicPartition
    /// The offset both sightings are at.
    public var offset: Int64
    /// The earlier content (produced, or fetched first).
    public var expected: RecordDigest
    /// The exchange that showed the earlier content.
    public var expectedBy: ExchangeReference
    /// The content that disagrees.
    public var actual: RecordDigest
    /// The exchange that showed the disagreeing content.
    public var actualBy: ExchangeReference

    /// Whether the two sightings agree on timestamp and timestamp type.
    public var timestampsAgree: Bool {
        expected.timestamp == actual.timestamp && expected.isLogAppendTime == actual.isLogAppendTime
    }
}
