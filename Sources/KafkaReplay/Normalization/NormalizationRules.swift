/// One field pattern left out of comparisons, with the reason people see in `--help` and reports.
public struct NoiseRule: Hashable, Sendable {
    public var pattern: FieldPattern
    public var reason: String

    public init(_ pattern: FieldPattern, reason: String) {
        self.pattern = pattern
        self.reason = reason
    }
}

/// What `diff` and `serve` leave out when they compare two decoded messages. The same rules serve
/// both: `serve` matches an incoming request to a recorded one with them, `diff` compares
/// exchanges with them, so "equivalent" means the same thing everywhere.
public struct NormalizationRules: Hashable, Sendable {
    public var rules: [NoiseRule]

    public init(rules: [NoiseRule]) {
        self.rules = rules
    }

    /// The default rules plus `ignore`; with `strict`, only `ignore`.
    public static func standard(ignoring ignore: [FieldPattern] = [], strict: Bool = false) -> NormalizationRules {
        NormalizationRules(rules: (strict ? [] : defaultNoise) + ignore.map { NoiseRule($0, reason: "--ignore") })
    }

    /// The default noise: values that differ between two runs of the same session for reasons that are
    /// not the session's behaviour: assigned by the broker (and carried forward by replay), or by a clock.
    public static let defaultNoise: [NoiseRule] = {
        let table: [(String, String)] = [
            ("**.ThrottleTimeMs", "throttle times"),
            ("response:**.LogAppendTimeMs", "broker-assigned time (Produce)"),
            ("ListOffsets:response:**.Timestamp", "broker-assigned time (ListOffsets)"),
            ("**.Records[].logAppendTime", "broker-assigned time (log-append records)"),
            ("request:**.Records[].timestamp", "client clock in produced records"),
            ("**.SessionId", "fetch session ids"),
            ("**.SessionEpoch", "fetch session epochs"),
            ("**.MemberId", "group member ids"),
            ("JoinGroup:response:**.Leader", "the group leader's member id"),
            ("**.GenerationId", "group generations"),
            ("**.MemberEpoch", "member epochs (KIP-848 groups)"),
            ("**.GenerationIdOrMemberEpoch", "generation or member epoch"),
            ("**.ProducerId", "producer ids"),
            ("**.ProducerEpoch", "producer epochs"),
            ("**.TopicId", "topic ids (topics compare by name)"),
            ("**.ClientInstanceId", "client telemetry instance ids"),
            ("**.ClusterId", "cluster id"),
            ("**.Host", "broker host"),
            ("**.Port", "broker port"),
        ]
        return table.compactMap { text, reason in
            (try? FieldPattern(text)).map { NoiseRule($0, reason: reason) }
        }
    }()

    /// The rules that apply to one API and direction (computed once per message).
    func applicable(api: String, direction: FieldPattern.Direction) -> [FieldPattern] {
        rules.compactMap { $0.pattern.applies(api: api, direction: direction) ? $0.pattern : nil }
    }

    /// The defaults as `--help` lists them: one line each, pattern then reason.
    public static var defaultNoiseHelp: String {
        defaultNoise.map { rule in
            let p = rule.pattern.text
            return "  " + p + String(repeating: " ", count: max(1, 35 - p.count)) + rule.reason
        }.joined(separator: "\n")
    }
}
