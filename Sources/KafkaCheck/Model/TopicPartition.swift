/// A topic and partition, by name. Topics a capture only knows by id (Fetch v13+ without a Metadata
/// answer naming them) are named `id:<uuid>`.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The topic's name (or `id:<uuid>`).
    public var topic: String
    /// The partition index.
    public var partition: Int32

    /// The partition `partition` of `topic`.
    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// Kafka's `topic-partition` form.
    public var description: String { "\(topic)-\(partition)" }

    /// Orders by topic, then partition, so reports list partitions stably.
    public static func < (a: TopicPartition, b: TopicPartition) -> Bool {
        a.topic != b.topic ? a.topic < b.topic : a.partition < b.partition
    }

    /// The `topic`/`partition` pair for a finding's details.
    var details: [String: String] { ["topic": topic, "partition": String(partition)] }
}
