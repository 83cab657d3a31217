/// How a batch's timestamps were assigned (attributes bit 3; legacy magic 1 uses the same bit).
public enum KafkaTimestampType: Hashable, Sendable {
    /// Set by the producer.
    case createTime
    /// Set by the broker on append; the batch's `maxTimestamp` is the append time.
    case logAppendTime
    /// Magic 0 messages carry no timestamp.
    case noTimestamp

    /// Kafka's name for it (`CreateTime`, `LogAppendTime`), or `NoTimestamp`.
    public var name: String {
        switch self {
        case .createTime: return "CreateTime"
        case .logAppendTime: return "LogAppendTime"
        case .noTimestamp: return "NoTimestamp"
        }
    }
}
