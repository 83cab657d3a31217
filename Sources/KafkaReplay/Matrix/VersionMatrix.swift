import KafkaCapture
import KafkaProtocol

/// One capture replayed against several targets (gateway versions, fresh brokers), each run diffed
/// against the recording and against each other: which targets agree with the recording, per API and
/// per group of exchanges that behaved alike, with the first field that differs.
///
/// Pure: built from sessions and diff reports, so it is tested without sockets; `MatrixRunner` does
/// the replays.
public struct VersionMatrix: Sendable {
    /// One target's run.
    public struct Run: Sendable {
        /// The target's column name.
        public var name: String
        /// The target's bootstrap address, as given.
        public var address: String
        /// The replay's own account (nil when it could not run at all).
        public var replay: ReplayReport?
        /// The replayed session against the recording (A = recording, B = this run).
        public var diff: DiffReport
        /// Where the replayed capture was written, if it was kept.
        public var capturePath: String?
        /// The replayed session itself, for views that show its exchanges (the HTML report).
        public var replayed: RecordedSession?

        /// One target's run; `replayed` only when a view needs the replayed exchanges.
        public init(
            name: String, address: String, replay: ReplayReport?, diff: DiffReport, capturePath: String? = nil,
            replayed: RecordedSession? = nil
        ) {
            self.name = name
            self.address = address
            self.replay = replay
            self.diff = diff
            self.capturePath = capturePath
            self.replayed = replayed
        }

        /// The replay completed and its answers are equivalent to the recording's.
        public var matchesRecording: Bool { (replay?.completed ?? false) && diff.isEquivalent }
    }

    /// What one target did with one recorded exchange.
    public enum Cell: Hashable, Sendable {
        /// Equivalent to the recording.
        case same
        /// Differs; the first differing field (request or response side), with the recording's and the run's values.
        case differs(side: String, path: String, recorded: String, replayed: String, count: Int)
        /// The run never sent this request (the replay stopped before it, or the request stream diverged).
        case missing

        /// True for `.same`.
        public var isSame: Bool { self == .same }

        /// One line for the table.
        public var text: String {
            switch self {
            case .same: return "="
            case .differs(let side, let path, let recorded, let replayed, let count):
                let more = count > 1 ? " (+\(count - 1) more)" : ""
                return "\(side) \(path): \(recorded) -> \(replayed)\(more)"
            case .missing: return "not sent"
            }
        }
    }

    /// Recorded exchanges that every target treated alike (same API, same cell per target).
    public struct Group: Sendable {
        /// The API of every exchange in the group.
        public var api: String
        /// What each target did with them, in `runs` order.
        public var cells: [Cell]
        /// The recorded exchanges in the group, as (connection, position on the connection).
        public var exchanges: [(connection: UInt64, position: Int)]
    }

    /// Per API: how many recorded exchanges, and how many differ per target.
    public struct APIRow: Sendable {
        /// The API's name.
        public var api: String
        /// Recorded exchanges of this API.
        public var exchanges: Int
        /// Per target, in `runs` order: exchanges of this API that are not equivalent to the recording.
        public var differing: [Int]
    }

    /// Two runs compared with each other.
    public struct Pair: Sendable {
        /// The first run's name.
        public var a: String
        /// The second run's name.
        public var b: String
        /// Whether the two runs' answers are equivalent under the rules.
        public var equivalent: Bool
        /// Exchanges that differ between them.
        public var differing: Int
        /// The first difference, for the table.
        public var first: String?
    }

    /// The capture's path, as given.
    public var capture: String
    /// One run per target, in column order.
    public var runs: [Run]
    /// Per API, the counts.
    public var apis: [APIRow]
    /// The recorded exchanges grouped by how the targets treated them.
    public var groups: [Group]
    /// Requests a run sent that the recording does not have, per target.
    public var extraRequests: [Int]
    /// Every pair of runs compared with each other.
    public var pairs: [Pair]

    /// True when every target completed its replay and matches the recording.
    public var allMatch: Bool { runs.allSatisfy(\.matchesRecording) }

    /// Builds the matrix. `runs` carry each target's diff against `recording`; `pairDiffs` are the
    /// run-vs-run diffs (index pairs into `runs`).
    public init(capture: String, recording: RecordedSession, runs: [Run], pairDiffs: [(Int, Int, DiffReport)]) {
        self.capture = capture
        self.runs = runs
        struct Key: Hashable {
            var connection: UInt64
            var position: Int
        }
        // Every recorded exchange, in capture order, with its API.
        var order: [Key] = []
        var apiOf: [Key: String] = [:]
        for c in recording.connections {
            for (i, e) in c.exchanges.enumerated() {
                let k = Key(connection: c.id, position: i + 1)
                order.append(k)
                apiOf[k] = e.apiName ?? "ApiKey\(e.apiKey)"
            }
        }
        var cells: [Key: [Cell]] = [:]
        var extra = Array(repeating: 0, count: runs.count)
        for (ti, run) in runs.enumerated() {
            for e in run.diff.exchanges {
                guard let a = e.a else {
                    extra[ti] += 1
                    continue
                }
                let k = Key(connection: a.connectionId, position: a.position)
                var row = cells[k] ?? Array(repeating: .missing, count: runs.count)
                row[ti] = Self.cell(e)
                cells[k] = row
            }
        }
        extraRequests = extra
        var apiRows: [String: APIRow] = [:]
        var apiOrder: [String] = []
        var groupIndex: [String: Int] = [:]
        var groups: [Group] = []
        for k in order {
            let api = apiOf[k] ?? "?"
            let row = cells[k] ?? Array(repeating: .missing, count: runs.count)
            if apiRows[api] == nil {
                apiOrder.append(api)
                apiRows[api] = APIRow(api: api, exchanges: 0, differing: Array(repeating: 0, count: runs.count))
            }
            apiRows[api]?.exchanges += 1
            for (ti, cell) in row.enumerated() where !cell.isSame { apiRows[api]?.differing[ti] += 1 }
            guard !row.allSatisfy(\.isSame) else { continue }
            // Exchanges group when every target did the same thing with them: same API, same first field.
            let groupKey = api + "\u{1}" + row.map(Self.groupText).joined(separator: "\u{1}")
            if let gi = groupIndex[groupKey] {
                groups[gi].exchanges.append((k.connection, k.position))
            } else {
                groupIndex[groupKey] = groups.count
                groups.append(Group(api: api, cells: row, exchanges: [(k.connection, k.position)]))
            }
        }
        apis = apiOrder.compactMap { apiRows[$0] }
        self.groups = groups
        pairs = pairDiffs.map { ia, ib, report in
            let first = report.allDifferences.first.map { e, side, d in
                "\(e.apiName) \(side == .request ? "request" : "response") \(d.path): \(DiffReport.valueText(d.a, limit: 40)) vs \(DiffReport.valueText(d.b, limit: 40))"
            }
            return Pair(
                a: runs[ia].name, b: runs[ib].name, equivalent: report.isEquivalent,
                differing: report.differingCount + report.onlyInACount + report.onlyInBCount, first: first)
        }
    }

    static func cell(_ e: DiffReport.ExchangeResult) -> Cell {
        switch e.status {
        case .same: return .same
        case .onlyInA: return .missing
        case .onlyInB: return .missing
        case .differs:
            let count = e.requestDifferences.count + e.responseDifferences.count
            if let d = e.requestDifferences.first {
                return .differs(
                    side: "request", path: d.path.description, recorded: DiffReport.valueText(d.a, limit: 40),
                    replayed: DiffReport.valueText(d.b, limit: 40), count: count)
            }
            if let d = e.responseDifferences.first {
                return .differs(
                    side: "response", path: d.path.description, recorded: DiffReport.valueText(d.a, limit: 40),
                    replayed: DiffReport.valueText(d.b, limit: 40), count: count)
            }
            return .same
        }
    }

    /// What groups exchanges: the kind of outcome and the field, not the values (which vary per exchange).
    static func groupText(_ c: Cell) -> String {
        switch c {
        case .same: return "="
        case .missing: return "missing"
        case .differs(let side, let path, _, _, _): return "\(side) \(path)"
        }
    }
}
