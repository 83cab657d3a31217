import KafkaCapture
import KafkaProtocol
import KafkaReplay

/// The HTML pages of `diff --html` and `matrix --html`: A and B side by side per exchange, the
/// differing fields highlighted, with the capture report's exchange viewer. The differences are
/// the diff report's own (`DiffReport.json()`, `VersionMatrix.json()`); the page only places them
/// in the exchanges' `dump --json` trees.
public enum DiffPage {
    /// The page for one diff of two sessions (A = `a`, B = `b`, as `report` was built from).
    public static func html(_ report: DiffReport, a: RecordedSession, b: RecordedSession, title: String? = nil) -> String {
        var doc = HTMLDocument(title: title ?? "kafkatape diff: \(report.pathA) vs \(report.pathB)")
        var linesA = SessionLines(a)
        var linesB = SessionLines(b)
        let comparison = comparisonJSON(report, &linesA, &linesB, bLinesId: "lines-b")
        doc.addJSON(id: "data", "{\"kind\":\"diff\",\"comparisons\":[\(comparison)]}")
        doc.addLines(id: "lines-a", linesA.lines)
        doc.addLines(id: "lines-b", linesB.lines)
        return doc.render()
    }

    /// The page for a version matrix: its table, then each target's run against the recording.
    /// Runs without their replayed session (`Run.replayed`) show the recording's side only.
    public static func html(_ matrix: VersionMatrix, recording: RecordedSession, title: String? = nil) -> String {
        var doc = HTMLDocument(title: title ?? "kafkatape matrix: \(matrix.capture)")
        var linesA = SessionLines(recording)
        var comparisons: [String] = []
        var runLines: [[String]] = []
        for (i, run) in matrix.runs.enumerated() {
            var linesB = SessionLines(run.replayed)
            comparisons.append(
                comparisonJSON(run.diff, &linesA, &linesB, bLinesId: "lines-run\(i)", name: run.name, matches: run.matchesRecording))
            runLines.append(linesB.lines)
        }
        doc.addJSON(id: "data", "{\"kind\":\"matrix\",\"matrix\":\(matrix.json()),\"comparisons\":[\(comparisons.joined(separator: ","))]}")
        doc.addLines(id: "lines-a", linesA.lines)
        for (i, lines) in runLines.enumerated() { doc.addLines(id: "lines-run\(i)", lines) }
        return doc.render()
    }

    /// One comparison: the diff's JSON, and per exchange of it (in the order of its connections'
    /// exchanges) the line of A and of B that shows it (-1: not on that side).
    static func comparisonJSON(
        _ report: DiffReport, _ a: inout SessionLines, _ b: inout SessionLines, bLinesId: String, name: String? = nil,
        matches: Bool? = nil
    ) -> String {
        var refs: [String] = []
        for c in report.connections {
            for e in c.exchanges {
                let la = e.a.flatMap { a.line(connection: $0.connectionId, position: $0.position) } ?? -1
                let lb = e.b.flatMap { b.line(connection: $0.connectionId, position: $0.position) } ?? -1
                refs.append("[\(la),\(lb)]")
            }
        }
        var o = "{\"diff\":\(report.json()),\"lines\":[\(refs.joined(separator: ","))],\"bLines\":\(HTMLDocument.jsonString(bLinesId))"
        if let name { o += ",\"name\":\(HTMLDocument.jsonString(name))" }
        if let matches { o += ",\"matches\":\(matches)" }
        return o + "}"
    }

    /// A session's exchanges as `dump --json` lines, decoded only when a comparison refers to them.
    struct SessionLines {
        private var byPosition: [UInt64: [Exchange]] = [:]
        private var index: [String: Int] = [:]
        private(set) var lines: [String] = []

        init(_ session: RecordedSession?) {
            for c in session?.connections ?? [] { byPosition[c.id] = c.exchanges }
        }

        /// The line of the exchange at 1-based `position` on `connection`, added on first use.
        mutating func line(connection: UInt64, position: Int) -> Int? {
            let key = "\(connection):\(position)"
            if let i = index[key] { return i }
            guard let list = byPosition[connection], position >= 1, position <= list.count else { return nil }
            index[key] = lines.count
            lines.append(DecodedExchange(list[position - 1]).jsonLine())
            return lines.count - 1
        }
    }
}
