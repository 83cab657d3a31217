/// What `check` checks and how strictly.
public struct CheckConfiguration: Hashable, Sendable {
    /// The invariants to run (default: all).
    public var enabled: Set<InvariantID>
    /// I21: how much longer than `max_wait_ms` (plus throttle time) a Fetch may take, in ms.
    public var fetchMarginMs: Int64
    /// I21: how long a Fetch may take when data was already available at the fetch offset, in ms.
    public var fetchPromptMs: Int64
    /// Findings kept per invariant (the rest are counted); 0 keeps all.
    public var maxFindingsPerInvariant: Int
    /// I28: how many identical unhelpful answers in a row make a client stuck.
    public var stuckRepeats: Int

    /// I21's default margin over `max_wait_ms` (`--fetch-margin-ms`).
    public static let defaultFetchMarginMs: Int64 = 1000
    /// I21's default limit for a Fetch whose data was already there (`--fetch-prompt-ms`).
    public static let defaultFetchPromptMs: Int64 = 500
    /// Findings kept per invariant by default (`--max-findings`).
    public static let defaultMaxFindingsPerInvariant = 100
    /// I28's default: this many identical unhelpful answers in a row (`--stuck-repeats`).
    public static let defaultStuckRepeats = 20

    /// A configuration with the command line's defaults for everything not given (all invariants on).
    public init(
        enabled: Set<InvariantID> = Set(InvariantCatalog.ids), fetchMarginMs: Int64 = defaultFetchMarginMs,
        fetchPromptMs: Int64 = defaultFetchPromptMs, maxFindingsPerInvariant: Int = defaultMaxFindingsPerInvariant,
        stuckRepeats: Int = defaultStuckRepeats
    ) {
        self.stuckRepeats = stuckRepeats
        self.enabled = enabled
        self.fetchMarginMs = fetchMarginMs
        self.fetchPromptMs = fetchPromptMs
        self.maxFindingsPerInvariant = maxFindingsPerInvariant
    }

    /// The enabled set from `--only` and `--skip` lists; throws on an unknown id.
    public static func selection(only: [String], skip: [String]) throws(CheckInputError) -> Set<InvariantID> {
        func parse(_ list: [String]) throws(CheckInputError) -> Set<InvariantID> {
            var out: Set<InvariantID> = []
            for item in list.flatMap({ $0.split(separator: ",").map(String.init) }) where !item.trimmingWhitespace().isEmpty {
                guard let id = InvariantID(parsing: item), InvariantCatalog.descriptor(id) != nil else {
                    throw CheckInputError("unknown invariant '\(item)' (known: I1-I\(InvariantCatalog.all.count))")
                }
                out.insert(id)
            }
            return out
        }
        let onlySet = try parse(only)
        let skipSet = try parse(skip)
        return (onlySet.isEmpty ? Set(InvariantCatalog.ids) : onlySet).subtracting(skipSet)
    }
}

/// Bad input to the checker (an unknown invariant id); the CLI turns it into exit code 2.
public struct CheckInputError: Error, CustomStringConvertible, Sendable {
    /// One line naming the bad input and what is accepted.
    public var description: String
    /// An input error that says `description`.
    public init(_ description: String) { self.description = description }
}
