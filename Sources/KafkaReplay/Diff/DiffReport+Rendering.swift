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
        var lines: [String] = []
        for w in warnings { lines.append("warning: \(w)") }
        for c in connections {
            let header: String
            switch (c.a, c.b) {
            case (let a?, let b?): header = "A conn \(a.id) (\(a.role)) ~ B conn \(b.id) (\(b.role))"
            case (let a?, nil): header = "A conn \(a.id) (\(a.role)): connection only in A"
            case (nil, let b?): header = "B conn \(b.id) (\(b.role)): connection only in B"
            case (nil, nil): continue
            }
            let shown = c.exchanges.filter { verbose || $0.status != .same }
            guard c.a == nil || c.b == nil || !shown.isEmpty else { continue }
            lines.append(header)
            for e in shown {
                let where_ = "A \(Self.refText(e.a)) | B \(Self.refText(e.b))"
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
                        lines.append("    request  \(d.path): A \(Self.valueText(d.a))  B \(Self.valueText(d.b))")
                    }
                    for d in e.responseDifferences {
                        lines.append("    response \(d.path): A \(Self.valueText(d.a))  B \(Self.valueText(d.b))")
                    }
                }
                for n in e.notes where verbose { lines.append("    note: \(n)") }
            }
        }
        lines.append(summaryLine)
        return lines.joined(separator: "\n")
    }

    /// One line: equivalent or not, exchanges compared, how many differ or are on one side only, the rules used.
    public var summaryLine: String {
        let verdict = isEquivalent ? "equivalent" : "NOT equivalent"
        var s = "\(verdict): \(comparedCount) exchanges compared, \(differingCount) differ"
        s += ", \(onlyInACount) only in A, \(onlyInBCount) only in B"
        if unpairedConnections > 0 { s += ", \(unpairedConnections) unpaired connection(s)" }
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
