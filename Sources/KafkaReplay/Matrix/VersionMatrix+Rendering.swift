import KafkaProtocol

extension VersionMatrix {
    /// The report for people: the targets, a per-API table (`=` agrees with the recording, else how
    /// many exchanges differ), every group of differing exchanges with each target's first differing
    /// field, the run-vs-run comparisons, and a verdict line.
    public func text() -> String {
        var lines: [String] = []
        lines.append("matrix of \(capture): \(runs.count) target(s)")
        for r in runs {
            var s = "  \(r.name) (\(r.address)): "
            if let replay = r.replay {
                s += "\(replay.requestsSent)/\(replay.totalRequests) sent, \(replay.responsesReceived) answered"
                if let f = replay.failure { s += "; replay stopped: \(f)" }
            } else {
                s += "not replayed"
            }
            s += r.matchesRecording ? "; matches the recording" : "; differs from the recording"
            if let p = r.capturePath { s += "; capture \(p)" }
            lines.append(s)
        }
        lines.append("")
        let names = runs.map(\.name)
        var table: [[String]] = [["API", "exchanges"] + names]
        for row in apis {
            table.append(
                [row.api, "\(row.exchanges)"]
                    + row.differing.map { $0 == 0 ? "=" : "\($0) differ" })
        }
        if extraRequests.contains(where: { $0 > 0 }) {
            table.append(["(not in recording)", "-"] + extraRequests.map { $0 == 0 ? "=" : "\($0) extra" })
        }
        lines.append(contentsOf: Self.columns(table))
        if !groups.isEmpty {
            lines.append("")
            lines.append("differing exchanges, grouped by what each target did:")
            for g in groups {
                let first = g.exchanges[0]
                let where_ = "conn \(first.connection) #\(first.position)" + (g.exchanges.count > 1 ? " and \(g.exchanges.count - 1) more" : "")
                lines.append("  \(g.api) ×\(g.exchanges.count) (\(where_))")
                for (ti, c) in g.cells.enumerated() {
                    lines.append("    \(names[ti]): \(c.text)")
                }
            }
        }
        if !pairs.isEmpty {
            lines.append("")
            lines.append("targets against each other:")
            for p in pairs {
                lines.append(
                    "  \(p.a) ~ \(p.b): "
                        + (p.equivalent ? "equivalent" : "\(p.differing) exchange(s) differ" + (p.first.map { "; first: \($0)" } ?? "")))
            }
        }
        lines.append("")
        let agreeing = runs.filter(\.matchesRecording).map(\.name)
        let differing = runs.filter { !$0.matchesRecording }.map(\.name)
        if differing.isEmpty {
            lines.append("every target matches the recording")
        } else {
            lines.append(
                "differ from the recording: \(differing.joined(separator: ", "))"
                    + (agreeing.isEmpty ? "" : "; match: \(agreeing.joined(separator: ", "))"))
        }
        return lines.joined(separator: "\n")
    }

    static func columns(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        var widths = Array(repeating: 0, count: width)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ")
        }
    }

    /// One JSON object for CI: `allMatch`, `capture`, `targets` (name, address, matchesRecording,
    /// sent, answered, failure, capture, differing, extraRequests), `apis` ({api, exchanges,
    /// differing: {target: n}}), `groups` ({api, count, exchanges: [{connection, position}], targets:
    /// {name: {status, side, path, recorded, replayed}}}), `pairs` ({a, b, equivalent, differing, first}).
    public func json() -> String {
        var root = KafkaObject()
        root.append("allMatch", .bool(allMatch))
        root.append("capture", .string(capture))
        root.append(
            "targets",
            .array(
                runs.enumerated().map { ti, r in
                    var o = KafkaObject()
                    o.append("name", .string(r.name))
                    o.append("address", .string(r.address))
                    o.append("matchesRecording", .bool(r.matchesRecording))
                    o.append("sent", .int(Int64(r.replay?.requestsSent ?? 0)))
                    o.append("total", .int(Int64(r.replay?.totalRequests ?? 0)))
                    o.append("answered", .int(Int64(r.replay?.responsesReceived ?? 0)))
                    o.append("failure", r.replay?.failure.map { .string($0.description) } ?? .null)
                    o.append("capture", r.capturePath.map { .string($0) } ?? .null)
                    o.append("differing", .int(Int64(r.diff.differingCount + r.diff.onlyInACount)))
                    o.append("extraRequests", .int(Int64(extraRequests[ti])))
                    return .object(o)
                }))
        root.append(
            "apis",
            .array(
                apis.map { row in
                    .object(
                        KafkaObject([
                            ("api", .string(row.api)), ("exchanges", .int(Int64(row.exchanges))),
                            (
                                "differing",
                                .object(KafkaObject(row.differing.enumerated().map { (runs[$0].name, .int(Int64($1))) }))
                            ),
                        ]))
                }))
        root.append(
            "groups",
            .array(
                groups.map { g in
                    var targets = KafkaObject()
                    for (ti, c) in g.cells.enumerated() {
                        var o = KafkaObject()
                        switch c {
                        case .same: o.append("status", .string("same"))
                        case .missing: o.append("status", .string("missing"))
                        case .differs(let side, let path, let recorded, let replayed, let count):
                            o.append("status", .string("differs"))
                            o.append("side", .string(side))
                            o.append("path", .string(path))
                            o.append("recorded", .string(recorded))
                            o.append("replayed", .string(replayed))
                            o.append("differences", .int(Int64(count)))
                        }
                        targets.append(runs[ti].name, .object(o))
                    }
                    return .object(
                        KafkaObject([
                            ("api", .string(g.api)), ("count", .int(Int64(g.exchanges.count))),
                            (
                                "exchanges",
                                .array(
                                    g.exchanges.map {
                                        .object(
                                            KafkaObject([
                                                ("connection", .int(Int64(bitPattern: $0.connection))), ("position", .int(Int64($0.position))),
                                            ]))
                                    })
                            ),
                            ("targets", .object(targets)),
                        ]))
                }))
        root.append(
            "pairs",
            .array(
                pairs.map { p in
                    .object(
                        KafkaObject([
                            ("a", .string(p.a)), ("b", .string(p.b)), ("equivalent", .bool(p.equivalent)),
                            ("differing", .int(Int64(p.differing))), ("first", p.first.map { .string($0) } ?? .null),
                        ]))
                }))
        return KafkaJSON.render(.object(root))
    }
}
