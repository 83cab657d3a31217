import KafkaProtocol

/// Finds partitions where the replay's log does not line up with the recording's: the first
/// ProduceResponse of a partition answered a different base offset than the recorded one. The target
/// held other records there than the recording's broker did (a cluster that is not fresh, an earlier
/// replay, or a recording made on a partition that was not empty). Replayed requests carry the
/// recorded offsets, so from there fetches, high watermarks and commits differ from the recording for
/// a reason that is not the target's behaviour; the replay says so once per partition, so a diff full
/// of offsets is not mistaken for a regression.
struct OffsetShiftCheck {
    /// A partition whose replayed base offset differs from the recorded one.
    struct Shift: Equatable {
        var topic: String
        var partition: Int64
        var recorded: Int64
        var replayed: Int64

        /// One line for the replay's warnings.
        var message: String {
            "\(topic)-\(partition): the replay's first Produce got base offset \(replayed), the recording's \(recorded): "
                + "the target's partition held other records than the recording's broker did, so offsets, high watermarks "
                + "and fetched records differ from the recording from there (replay against a fresh cluster for a clean diff)"
        }
    }

    /// Partitions whose first Produce was compared already: later ones are shifted alike.
    private var seen: Set<String> = []

    /// The shifts a Produce answer shows for partitions no earlier Produce answered. A partition counts
    /// as answered once the recording answered it; it shifts when both sides answered it without error
    /// at different base offsets. `names` resolves topics named only by id (Produce v13+).
    mutating func produceAnswered(recorded: KafkaValue, replayed: KafkaValue, names: [KafkaUUID: String]) -> [Shift] {
        let replayedBases = Dictionary(Self.partitions(replayed, names: names).map { ($0.key, $0.base) }) { a, _ in a }
        var out: [Shift] = []
        for p in Self.partitions(recorded, names: names) where seen.insert(p.key).inserted {
            guard let recordedBase = p.base, let replayedBase = replayedBases[p.key] ?? nil, replayedBase != recordedBase else { continue }
            out.append(Shift(topic: p.topic, partition: p.index, recorded: recordedBase, replayed: replayedBase))
        }
        return out
    }

    /// Each partition a ProduceResponse answers, with its base offset when it was answered without error.
    static func partitions(_ response: KafkaValue, names: [KafkaUUID: String]) -> [(key: String, topic: String, index: Int64, base: Int64?)] {
        var out: [(String, String, Int64, Int64?)] = []
        for t in response["Responses"]?.arrayValue ?? [] {
            var topic = t["Name"]?.stringValue ?? ""
            if topic.isEmpty, case .uuid(let id)? = t["TopicId"] { topic = names[id] ?? id.description }
            for p in t["PartitionResponses"]?.arrayValue ?? [] {
                guard let index = p["Index"]?.intValue else { continue }
                let ok = (p["ErrorCode"]?.intValue ?? 0) == 0
                let base = p["BaseOffset"]?.intValue.flatMap { ok && $0 >= 0 ? $0 : nil }
                out.append(("\(topic)\u{0}\(index)", topic, index, base))
            }
        }
        return out
    }
}
