import KafkaProtocol

extension DiffReport {
    static func refText(_ r: ExchangeRef?) -> String {
        guard let r else { return "—" }
        return "conn \(r.connectionId) #\(r.position) (corr \(r.correlationId))"
    }

    static func valueText(_ v: KafkaValue?, limit: Int = 160) -> String {
        guard let v else { return "(absent)" }
        let s: String
        switch v {
        case .string(let t): s = t
        default: s = KafkaJSON.render(v)
        }
        return s.count > limit ? String(s.prefix(limit)) + "…" : s
    }

    /// The report for people: only what differs, per exchange the path, value in A, value in B;
    /// then a summary line.
    public func text(verbose: Bool = false) -> String {
        var lines: [String] = warnings.map { "warning: \($0)" }
        var writer = TextWriter(verbose: verbose)
        for c in connections {
            lines += writer.lines(for: .connection(a: c.a, b: c.b))
            for e in c.exchanges { lines += writer.lines(for: .exchange(e)) }
        }
        lines.append(Self.summaryLine(counts, rules: rules))
        return lines.joined(separator: "\n")
    }

    /// The text report written as the comparison goes (`CaptureDiff.compare(_:_:into:)`): the same
    /// lines `text(verbose:)` prints, one event at a time. A pair of connections gets its header line
    /// only once it has something to show (or when one side is missing).
    public struct TextWriter {
        let verbose: Bool
        private var pendingHeader: String?

        /// A writer; `verbose` also lists equivalent exchanges and notes.
        public init(verbose: Bool) {
            self.verbose = verbose
        }

        /// The lines one event adds (often none).
        public mutating func lines(for event: Event) -> [String] {
            switch event {
            case .connection(let a, let b):
                pendingHeader = nil
                switch (a, b) {
                case (let a?, let b?):
                    pendingHeader = "A conn \(a.id) (\(a.role)) ~ B conn \(b.id) (\(b.role))"
                    return []
                case (let a?, nil): return ["A conn \(a.id) (\(a.role)): connection only in A"]
                case (nil, let b?): return ["B conn \(b.id) (\(b.role)): connection only in B"]
                case (nil, nil): return []
                }
            case .exchange(let e):
                guard verbose || e.status != .same else { return [] }
                var lines: [String] = []
                if let header = pendingHeader {
                    lines.append(header)
                    pendingHeader = nil
                }
                let where_ = "A \(DiffReport.refText(e.a)) | B \(DiffReport.refText(e.b))"
                switch e.status {
                case .same:
                    lines.append("  \(e.apiName) v\(e.apiVersion): same  [\(where_)]")
                case .onlyInA:
                    lines.append("  \(e.apiName) v\(e.apiVersion): request stream diverged: sent only in A  [\(where_)]")
                case .onlyInB:
                    lines.append("  \(e.apiName) v\(e.apiVersion): request stream diverged: sent only in B  [\(where_)]")
                case .differs:
                    let what =
                        e.requestDifferences.isEmpty
                        ? "response differs" : e.responseDifferences.isEmpty ? "request differs" : "request and response differ"
                    lines.append("  \(e.apiName) v\(e.apiVersion): \(what)  [\(where_)]")
                    for d in e.requestDifferences {
                        lines.append("    request  \(d.path): A \(DiffReport.valueText(d.a))  B \(DiffReport.valueText(d.b))")
                    }
                    for d in e.responseDifferences {
                        lines.append("    response \(d.path): A \(DiffReport.valueText(d.a))  B \(DiffReport.valueText(d.b))")
                    }
                }
                for n in e.notes where verbose { lines.append("    note: \(n)") }
                return lines
            }
        }
    }

    /// The figures of this report.
    public var counts: Counts {
        var c = Counts()
        for connection in connections {
            if connection.a == nil || connection.b == nil { c.unpairedConnections += 1 }
            for e in connection.exchanges { c.add(e) }
        }
        return c
    }

    /// The last line of the text report.
    public var summaryLine: String { Self.summaryLine(counts, rules: rules) }

    /// The summary line for `counts` under `rules`.
    public static func summaryLine(_ counts: Counts, rules: NormalizationRules) -> String {
        let verdict = counts.isEquivalent ? "equivalent" : "NOT equivalent"
        var s = "\(verdict): \(counts.compared) exchanges compared, \(counts.differing) differ"
        s += ", \(counts.onlyInA) only in A, \(counts.onlyInB) only in B"
        if counts.unpairedConnections > 0 { s += ", \(counts.unpairedConnections) unpaired connection(s)" }
        s += " (\(rules.rules.count) noise rule(s))"
        return s
    }

    // MARK: JSON

    static func refValue(_ r: ExchangeRef?) -> KafkaValue {
        guard let r else { return .null }
        return .object(
            KafkaObject([
                ("connection", .int(Int64(bitPattern: r.connectionId))), ("correlationId", .int(Int64(r.correlationId))),
                ("position", .int(Int64(r.position))),
            ]))
    }

    static func differenceValue(_ d: FieldDifference, side: String) -> KafkaValue {
        .object(
            KafkaObject([
                ("side", .string(side)), ("path", .string(d.path.description)),
                ("a", d.a ?? .null), ("aPresent", .bool(d.a != nil)),
                ("b", d.b ?? .null), ("bPresent", .bool(d.b != nil)),
            ]))
    }

    /// One JSON object: `equivalent`, `a`, `b`, `summary` counts, `rules` (pattern, reason),
    /// `warnings`, and `connections`, each with `a`/`b` (`{id, role}` or null) and `exchanges`:
    /// `{api, apiVersion, status (same|differs|onlyInA|onlyInB), a, b ({connection, correlationId,
    /// position} or null), differences: [{side, path, a, aPresent, b, bPresent}], notes}`.
    public func json() -> String {
        var root = KafkaObject()
        root.append("equivalent", .bool(isEquivalent))
        root.append("a", .string(pathA))
        root.append("b", .string(pathB))
        root.append(
            "summary",
            .object(
                KafkaObject([
                    ("compared", .int(Int64(comparedCount))), ("differ", .int(Int64(differingCount))),
                    ("onlyInA", .int(Int64(onlyInACount))), ("onlyInB", .int(Int64(onlyInBCount))),
                    ("unpairedConnections", .int(Int64(unpairedConnections))),
                ])))
        root.append(
            "rules",
            .array(rules.rules.map { .object(KafkaObject([("pattern", .string($0.pattern.text)), ("reason", .string($0.reason))])) }))
        root.append("warnings", .array(warnings.map { .string($0) }))
        root.append(
            "connections",
            .array(
                connections.map { c in
                    func side(_ s: (id: UInt64, role: String)?) -> KafkaValue {
                        guard let s else { return .null }
                        return .object(KafkaObject([("id", .int(Int64(bitPattern: s.id))), ("role", .string(s.role))]))
                    }
                    return .object(
                        KafkaObject([
                            ("a", side(c.a)), ("b", side(c.b)),
                            (
                                "exchanges",
                                .array(
                                    c.exchanges.map { e in
                                        .object(
                                            KafkaObject([
                                                ("api", .string(e.apiName)), ("apiVersion", .int(Int64(e.apiVersion))),
                                                ("status", .string(e.status.rawValue)), ("a", Self.refValue(e.a)),
                                                ("b", Self.refValue(e.b)),
                                                (
                                                    "differences",
                                                    .array(
                                                        e.requestDifferences.map { Self.differenceValue($0, side: "request") }
                                                            + e.responseDifferences.map { Self.differenceValue($0, side: "response") })
                                                ),
                                                ("notes", .array(e.notes.map { .string($0) })),
                                            ]))
                                    })
                            ),
                        ]))
                }))
        return KafkaJSON.render(.object(root))
    }

    // MARK: JUnit

    /// JUnit XML for CI: one `<testsuite>` per pair of connections and one `<testcase>` per exchange;
    /// an exchange that differs or exists on one side only is a `<failure>` listing the paths.
    public func junitXML(suiteName: String = "kafkatape diff") -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        let failures = exchanges.filter { $0.status != .same }.count + unpairedConnections
        out += "<testsuites name=\"\(Self.xml(suiteName))\" tests=\"\(exchanges.count)\" failures=\"\(failures)\">\n"
        for (index, c) in connections.enumerated() {
            let name: String
            switch (c.a, c.b) {
            case (let a?, let b?): name = "A conn \(a.id) ~ B conn \(b.id) (\(a.role))"
            case (let a?, nil): name = "A conn \(a.id) (\(a.role)) only in A"
            case (nil, let b?): name = "B conn \(b.id) (\(b.role)) only in B"
            case (nil, nil): name = "connection \(index)"
            }
            let suiteFailures = c.exchanges.filter { $0.status != .same }.count
            out += "  <testsuite name=\"\(Self.xml(name))\" tests=\"\(c.exchanges.count)\" failures=\"\(suiteFailures)\">\n"
            for e in c.exchanges {
                let caseName = "\(e.apiName) v\(e.apiVersion) A \(Self.refText(e.a)) | B \(Self.refText(e.b))"
                out += "    <testcase classname=\"kafkatape.diff.connection\(index + 1)\" name=\"\(Self.xml(caseName))\""
                switch e.status {
                case .same:
                    out += "/>\n"
                case .onlyInA, .onlyInB:
                    let side = e.status == .onlyInA ? "A" : "B"
                    out += ">\n      <failure message=\"request stream diverged: sent only in \(side)\" type=\"diverged\"/>\n"
                    out += "    </testcase>\n"
                case .differs:
                    let count = e.requestDifferences.count + e.responseDifferences.count
                    out += ">\n      <failure message=\"\(count) difference(s)\" type=\"differs\">"
                    var body: [String] = []
                    for d in e.requestDifferences { body.append("request \(d.path): A \(Self.valueText(d.a)) B \(Self.valueText(d.b))") }
                    for d in e.responseDifferences { body.append("response \(d.path): A \(Self.valueText(d.a)) B \(Self.valueText(d.b))") }
                    out += Self.xml(body.joined(separator: "\n"))
                    out += "</failure>\n    </testcase>\n"
                }
            }
            out += "  </testsuite>\n"
        }
        out += "</testsuites>\n"
        return out
    }

    /// Escapes text for XML content and attributes; drops characters XML 1.0 cannot carry.
    static func xml(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                let v = scalar.value
                if v == 0x9 || v == 0xA || v == 0xD || (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) || v >= 0x10000 {
                    out.unicodeScalars.append(scalar)
                } else {
                    out += "\u{FFFD}"
                }
            }
        }
        return out
    }
}
