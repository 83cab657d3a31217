/// What an invariant is, for people: the catalogue `kafkatape check --help`, docs/check.md and the
/// text report print.
public struct InvariantDescriptor: Hashable, Sendable {
    /// How serious a finding is.
    public enum Level: String, Hashable, Sendable {
        /// A protocol guarantee was broken: some client can misbehave because of it.
        case invariant
        /// Legal on the wire but unwise (some clients mis-parse it); reported, still exit 1.
        case lint
    }

    /// The invariant's id.
    public let id: InvariantID
    /// A few words: `high watermark never goes backwards`.
    public let title: String
    /// One sentence a user understands, printed above the findings.
    public let explanation: String
    /// Whether a finding is a broken guarantee or a lint.
    public let level: Level
}

/// Every invariant `kafkatape check` knows, in order.
public enum InvariantCatalog {
    /// Every invariant, by id; the CLI's help and docs/check.md print it.
    public static let all: [InvariantDescriptor] = [
        d(1, "fetched records equal what was produced",
            "A record a consumer fetched at (topic, partition, offset N) must have the key, value, headers and null-ness that the Produce assigned offset N carried."),
        d(2, "a fetch below the high watermark returns data",
            "A Fetch at an offset below the partition's known high watermark that answers without error must return at least one record at or after that offset."),
        d(3, "the first batch covers the fetch offset",
            "The first record batch a Fetch returns must contain the fetch offset (base offset <= fetch offset <= last offset), or start after it only across offsets the capture knows are absent."),
        d(4, "an offset always returns the same record",
            "Every Fetch that returns (topic, partition, offset) must return identical content for it."),
        d(5, "the high watermark never goes backwards",
            "On one connection, the high watermark a partition's Fetch responses report must never decrease."),
        d(6, "acknowledged records are below the end offset",
            "After a ProduceResponse assigns base offset B to n records, later ListOffsets LATEST answers and Fetch high watermarks for that partition must be at least B + n."),
        d(7, "ListOffsets agrees with Fetch",
            "ListOffsets LATEST must equal the Fetch high watermark (and EARLIEST the log start offset) when nothing was produced to the partition in between."),
        d(8, "fetching outside the log is an error",
            "A Fetch at an offset beyond the high watermark (or below the log start offset) must answer OFFSET_OUT_OF_RANGE."),
        d(9, "ListOffsets by timestamp finds the first record at or after it",
            "ListOffsets for timestamp T must return the first offset whose record timestamp is >= T (among the offsets this capture saw), with that record's timestamp, or -1 when there is none."),
        d(10, "null and empty stay distinct",
            "A null key or value must come back null, and an empty one empty, exactly as it was produced."),
        d(11, "record batches are well-formed",
            "Every record batch in a Produce request or Fetch response must have a valid CRC, length, compression codec and record count (lastOffsetDelta + 1)."),
        d(12, "produce offsets advance by the batch size",
            "Successive ProduceResponse base offsets on a partition must advance by exactly the previous batch's record count, without overlaps or unexplained gaps."),
        d(13, "responses come back in request order",
            "On a connection, responses must come back in request order, each correlation id must match the oldest outstanding request, and no request may go unanswered."),
        d(14, "every frame decodes exactly",
            "Every response (and request) must decode under its API key, version and header version with no bytes left over."),
        d(15, "requests stay within the advertised versions",
            "Requests must use versions the broker advertised in ApiVersions, and a version the broker does not support must be answered with UNSUPPORTED_VERSION (35)."),
        d(16, "tagged fields are not sent at their defaults", level: .lint,
            "A tagged field should be omitted when it holds its default value; sending it anyway is legal but some clients mis-parse it."),
        d(17, "broker addresses are rewritten to the proxy",
            "Every broker address the client received in Metadata, FindCoordinator, DescribeCluster (and leader hints) must point at a KafkaTape proxy listener."),
        d(18, "a created topic is visible",
            "After CreateTopics succeeds, Metadata must not answer UNKNOWN_TOPIC_OR_PARTITION for that topic."),
        d(19, "OffsetFetch returns the last commit",
            "OffsetFetch must return the offset and metadata of the last successful OffsetCommit for that group and partition."),
        d(20, "group assignments are consistent",
            "In a group generation, the leader's SyncGroup assignments must cover the subscribed partitions without overlap, and each member must receive exactly what the leader assigned it."),
        d(21, "fetches are answered in time",
            "A Fetch must be answered within max_wait_ms plus a margin, and promptly when data was already available."),
        d(22, "no answer is UNKNOWN_SERVER_ERROR",
            "UNKNOWN_SERVER_ERROR (-1) means the broker failed in a way it has no error code for; no response should carry it."),
        d(23, "error answers say why", level: .lint,
            "A non-zero error code in a version whose response has an ErrorMessage field should come with a message, not null or empty."),
        d(24, "error codes fit the request version",
            "A response may carry only error codes that the request's version can return (codes introduced with later versions, e.g. by a KIP, are not understood by older clients)."),
        d(25, "answers match questions",
            "Every topic, partition, group or resource a request names must be answered exactly once under the same key, and nothing it did not ask about may be answered."),
        d(26, "Metadata answers every topic",
            "A topic a Metadata request names must come back (with UNKNOWN_TOPIC_OR_PARTITION if it does not exist), and a topic created without error must appear in later Metadata for all topics."),
        d(27, "the proxy reached the broker",
            "A capture in which connections could not reach the broker (or a node listener could not be opened) did not test the broker: each such event is a finding."),
        d(28, "clients make progress",
            "The same request answered the same unhelpful way (same error codes, or an empty answer) many times in a row means the client is stuck."),
        d(29, "record sets fit the version",
            "Produce v3+ and Fetch v4+ carry v2 record batches, older versions v0/v1 message sets; zstd compression needs Produce v7+ and Fetch v10+."),
        d(30, "timestamps come back as produced",
            "Records produced with CreateTime come back with the producer's timestamps and type, a ProduceResponse's LogAppendTimeMs is -1 exactly for CreateTime topics, and broker-assigned times fall within the capture's time."),
        d(31, "log start offsets agree",
            "The log start offset a ProduceResponse, a Fetch and ListOffsets EARLIEST report for a partition must agree and never go backwards."),
        d(32, "producer ids are not shared",
            "Separate non-transactional InitProducerId calls must get distinct (producer id, epoch) pairs, or two producers' batches are deduplicated as each other's retries."),
        d(33, "JoinGroup picks a protocol every member supports",
            "The protocol a JoinGroup generation uses must be supported by every member, and be the one the members' orders of preference vote for."),
        d(34, "a well-formed request is not refused as malformed",
            "A request that decodes exactly under its API version's schema must not be answered INVALID_REQUEST: the protocol allows it, so the broker either cannot parse it or must say why it refuses it."),
    ]

    private static func d(
        _ n: Int, _ title: String, level: InvariantDescriptor.Level = .invariant, _ explanation: String
    ) -> InvariantDescriptor {
        InvariantDescriptor(id: InvariantID(n), title: title, explanation: explanation, level: level)
    }

    /// The descriptor of `id`, when it is known.
    public static func descriptor(_ id: InvariantID) -> InvariantDescriptor? {
        guard id.number >= 1 && id.number <= all.count else { return nil }
        return all[id.number - 1]
    }

    /// Every known id.
    public static var ids: [InvariantID] { all.map(\.id) }

    /// Two lines per invariant (`I7  ListOffsets agrees with Fetch`, then the explanation indented), for `--help`.
    public static func helpText() -> String {
        all.map { d in
            let pad = String(repeating: " ", count: max(1, 5 - d.id.description.count))
            return d.id.description + pad + d.title + (d.level == .lint ? " (lint)" : "") + "\n     " + d.explanation
        }.joined(separator: "\n")
    }
}
