/// The outcome of a check: the findings kept, how many there were per invariant, what was checked,
/// and notes about checks that could not run.
public struct CheckReport: Sendable {
    /// Counters for the summary line.
    public struct Statistics: Hashable, Sendable {
        /// Capture records read.
        public var records = 0
        /// Exchanges paired and checked.
        public var exchanges = 0
        /// Client connections in the capture.
        public var connections = 0
        /// Frame bytes as they were on the wire (with size prefixes).
        public var frameBytes: Int64 = 0
    }

    /// Findings, by invariant then time; at most `maxFindingsPerInvariant` of each.
    public var findings: [Finding]
    /// Every finding counted, including those beyond the limit.
    public var counts: [InvariantID: Int]
    /// The invariants that ran.
    public var checked: [InvariantID]
    /// Checks that could not run and why.
    public var notes: [String]
    /// The counters for the summary line.
    public var statistics: Statistics

    /// A report from its parts (the engine makes them).
    public init(
        findings: [Finding], counts: [InvariantID: Int], checked: [InvariantID], notes: [String], statistics: Statistics
    ) {
        self.findings = findings
        self.counts = counts
        self.checked = checked
        self.notes = notes
        self.statistics = statistics
    }

    /// No findings at all.
    public var isClean: Bool { counts.values.allSatisfy { $0 == 0 } }

    /// Total findings, including those beyond the limit.
    public var totalFindings: Int { counts.values.reduce(0, +) }

    /// Findings of one invariant (those kept).
    public func findings(_ id: InvariantID) -> [Finding] { findings.filter { $0.invariant == id } }

    /// The ids that have findings, in order.
    public var failedInvariants: [InvariantID] { counts.filter { $0.value > 0 }.keys.sorted() }
}
