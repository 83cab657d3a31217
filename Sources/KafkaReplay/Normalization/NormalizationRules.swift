/// What a comparison does with a field a noise rule matches.
public enum NoiseTreatment: Hashable, Sendable {
    /// Left out of the comparison.
    case ignore
    /// An identifier the broker chooses: compared by consistent renaming. Each side's values become
    /// `NAMESPACE#1`, `NAMESPACE#2`, ... in order of first appearance, so "two producers got one id"
    /// differs from "they got two" while the ids themselves may differ. The no-id values (-1, 0, "")
    /// stay as they are. Where there is nothing to rename against (`serve` matching one request), ignored.
    case rename(namespace: String)
    /// A broker clock reading (LogAppendTime): any time compares equal to any other, but "no time"
    /// (-1, as with CreateTime) still differs from a time.
    case brokerTime
}

/// One field pattern treated specially in comparisons, with the reason people see in `--help`,
/// docs/replay.md and reports.
public struct NoiseRule: Hashable, Sendable {
    /// The fields the rule applies to.
    public var pattern: FieldPattern
    /// Why these fields are noise, in one sentence (shown in help and reports).
    public var reason: String
    /// What the comparison does with them.
    public var treatment: NoiseTreatment

    /// A rule for `pattern`, explained by `reason`; ignored unless `treatment` says otherwise.
    public init(_ pattern: FieldPattern, reason: String, treatment: NoiseTreatment = .ignore) {
        self.pattern = pattern
        self.reason = reason
        self.treatment = treatment
    }
}

/// What `diff` and `serve` leave out (or rename) when they compare two decoded messages. `diff`
/// compares exchanges with `standard`; `serve` matches an incoming request to a recorded one with
/// `serveMatching`, which adds the fields clients compute from their own clocks.
///
/// A field is noise only where the broker legitimately chooses it (or, for serve, where the client
/// computes it from a clock): what the producer wrote (keys, values, headers, CreateTime
/// timestamps) is never noise.
public struct NormalizationRules: Hashable, Sendable {
    /// The rules, in the order they are listed to people.
    public var rules: [NoiseRule]

    /// A rule set of `rules` (see `standard()` and `serveMatching()` for the built-in ones).
    public init(rules: [NoiseRule]) {
        self.rules = rules
    }

    /// The default rules plus `ignore`; with `strict`, only `ignore`.
    public static func standard(ignoring ignore: [FieldPattern] = [], strict: Bool = false) -> NormalizationRules {
        NormalizationRules(rules: (strict ? [] : defaultNoise) + ignore.map { NoiseRule($0, reason: "--ignore") })
    }

    /// `serve`'s matching: the default rules and the client-computed fields plus `ignore`; with
    /// `strict`, only `ignore` (every byte of the body must match).
    public static func serveMatching(ignoring ignore: [FieldPattern] = [], strict: Bool = false) -> NormalizationRules {
        NormalizationRules(
            rules: (strict ? [] : defaultNoise + clientComputed) + ignore.map { NoiseRule($0, reason: "--ignore") })
    }

    /// The default noise: values the broker chooses, which differ between two runs of the same
    /// session without the session behaving differently.
    public static let defaultNoise: [NoiseRule] = rules([
        ("**.ThrottleTimeMs", "quota throttling is the broker's choice at that moment (KIP-219)", .ignore),
        (
            "Produce:response:**.LogAppendTimeMs", "the broker's clock on LogAppendTime topics; -1 (CreateTime) is still compared",
            .brokerTime
        ),
        (
            "ListOffsets:response:**.Timestamp",
            "EARLIEST/LATEST answers carry -1 or (Tansu) a clock reading; a by-timestamp answer is judged by its Offset",
            .brokerTime
        ),
        ("**.Records[].logAppendTime", "records of LogAppendTime batches carry the broker's clock, not the producer's", .ignore),
        ("**.SessionId", "fetch session ids are the broker's choice (KIP-227)", .rename(namespace: "session")),
        ("**.SessionEpoch", "the client's position in a fetch session the broker may evict and restart (KIP-227)", .ignore),
        ("**.MemberId", "group member ids are the coordinator's choice (KIP-394)", .rename(namespace: "member")),
        ("JoinGroup:response:**.Leader", "the group leader is named by its member id", .rename(namespace: "member")),
        ("**.GenerationId", "group generations are the coordinator's count", .rename(namespace: "generation")),
        ("**.MemberEpoch", "member epochs are the coordinator's count (KIP-848)", .rename(namespace: "member-epoch")),
        ("**.GenerationIdOrMemberEpoch", "generation or member epoch (OffsetCommit/OffsetFetch)", .rename(namespace: "generation")),
        ("**.ProducerId", "producer ids are the broker's choice (InitProducerId, KIP-98)", .rename(namespace: "producer")),
        ("**.ProducerEpoch", "producer epochs are the broker's count (KIP-98, KIP-360)", .rename(namespace: "producer-epoch")),
        ("**.TopicId", "topic ids are the cluster's choice; topics compare by name", .ignore),
        ("**.ClientInstanceId", "client telemetry instance ids are the broker's choice (KIP-714)", .rename(namespace: "instance")),
        ("**.ClusterId", "cluster ids are the cluster's choice", .rename(namespace: "cluster")),
        ("**.Host", "where the target's brokers listen", .ignore),
        ("**.Port", "where the target's brokers listen", .ignore),
    ])

    /// What `serve` also ignores when matching: fields a live client computes from its own clock or
    /// deadline, so the same client never sends them twice alike, and the client's own name and release.
    public static let clientComputed: [NoiseRule] = rules([
        ("request:**.TimeoutMs", "request timeouts some clients compute from a deadline minus elapsed time (kafka-go)", .ignore),
        ("Fetch:request:MaxWaitMs", "long-poll waits some clients compute from a deadline (kafka-go)", .ignore),
        ("request:**.Records[].timestamp", "CreateTime: the producing client's clock at send time", .ignore),
        (
            "ApiVersions:request:ClientSoftwareName", "which client library is asking (KIP-511): another client asks the same question",
            .ignore
        ),
        ("ApiVersions:request:ClientSoftwareVersion", "which release of it (KIP-511)", .ignore),
    ])

    static func rules(_ table: [(String, String, NoiseTreatment)]) -> [NoiseRule] {
        table.compactMap { text, reason, treatment in
            (try? FieldPattern(text)).map { NoiseRule($0, reason: reason, treatment: treatment) }
        }
    }

    /// The rules that apply to one API and direction (computed once per message).
    func applicable(api: String, direction: FieldPattern.Direction) -> [NoiseRule] {
        rules.filter { $0.pattern.applies(api: api, direction: direction) }
    }

    /// The defaults as `--help` lists them: one line each, pattern then reason.
    public static var defaultNoiseHelp: String { help(defaultNoise) }

    /// The client-computed fields as `serve --help` lists them.
    public static var clientComputedHelp: String { help(clientComputed) }

    static func help(_ rules: [NoiseRule]) -> String {
        rules.map { rule in
            let p = rule.pattern.text
            let how: String
            switch rule.treatment {
            case .ignore: how = ""
            case .rename: how = " (renamed)"
            case .brokerTime: how = " (any time = any time)"
            }
            return "  " + p + String(repeating: " ", count: max(1, 37 - p.count)) + rule.reason + how
        }.joined(separator: "\n")
    }
}
