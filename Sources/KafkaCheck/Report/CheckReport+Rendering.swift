import Foundation
import KafkaProtocol

extension CheckReport {
    /// The report for people: findings grouped by invariant, each group with the invariant's
    /// explanation, each finding with its exchanges and a `kafkatape dump` command to see them.
    public func text(capturePath: String) -> String {
        var out: [String] = []
        for id in failedInvariants {
            let d = InvariantCatalog.descriptor(id)
            let n = counts[id] ?? 0
            let level = d?.level == .lint ? " [lint]" : ""
            out.append("\(id) \(d?.title ?? "")\(level): \(n) finding\(n == 1 ? "" : "s")")
            if let e = d?.explanation { out.append("  \(e)") }
            let kept = findings(id)
            // Findings with the same message, or the same summary when the message names what differs
            // per occurrence (the same fault seen on many requests), are listed once: ×N, first and last.
            var groups: [(key: String, findings: [Finding])] = []
            var groupIndex: [String: Int] = [:]
            for f in kept {
                if let i = groupIndex[f.aggregationKey] {
                    groups[i].findings.append(f)
                } else {
                    groupIndex[f.aggregationKey] = groups.count
                    groups.append((f.aggregationKey, [f]))
                }
            }
            for g in groups {
                let first = g.findings[0]
                let last = g.findings[g.findings.count - 1]
                if g.findings.count == 1 {
                    out.append("  - \(first.message)")
                    if !first.exchanges.isEmpty { out.append("      " + first.exchanges.map(Self.describe).joined(separator: "; ")) }
                } else {
                    out.append("  - \(g.key) (×\(g.findings.count))")
                    out.append("      first: " + first.exchanges.map(Self.describe).joined(separator: "; "))
                    if first.message != g.key { out.append("             " + first.message) }
                    out.append("      last:  " + last.exchanges.map(Self.describe).joined(separator: "; "))
                    if last.message != g.key { out.append("             " + last.message) }
                }
                var conns: [UInt64] = []
                for f in g.findings {
                    for e in f.exchanges where !conns.contains(e.connection) { conns.append(e.connection) }
                }
                if !conns.isEmpty {
                    let shown = conns.prefix(6).map { "--connection \($0)" }.joined(separator: " ")
                    out.append(
                        "      see: kafkatape dump \(Self.shellQuote(capturePath)) \(shown)"
                            + (conns.count > 6 ? " (and \(conns.count - 6) more connections)" : ""))
                }
            }
            if n > kept.count {
                out.append("  ... and \(n - kept.count) more (--max-findings 0 lists all)")
            }
            out.append("")
        }
        if !notes.isEmpty {
            out.append("notes:")
            for n in notes { out.append("  - \(n)") }
            out.append("")
        }
        let checkedText = Self.ranges(checked)
        if isClean {
            out.append(
                "clean: no findings in \(statistics.exchanges) exchanges over \(statistics.connections) connections (checked \(checkedText))")
        } else {
            let parts = failedInvariants.map { "\($0)×\(counts[$0] ?? 0)" }.joined(separator: ", ")
            out.append(
                "\(totalFindings) finding\(totalFindings == 1 ? "" : "s") (\(parts)) in \(statistics.exchanges) exchanges over \(statistics.connections) connections (checked \(checkedText))")
        }
        return out.joined(separator: "\n")
    }

    /// One JSON object: `capture`, `clean`, `summary` (counts), `checked`, `findings`, `notes`.
    public func json(capturePath: String) -> String {
        var findingValues: [KafkaValue] = []
        for f in findings {
            let d = InvariantCatalog.descriptor(f.invariant)
            var o = KafkaObject()
            o.append("id", .string(f.invariant.description))
            o.append("title", .string(d?.title ?? ""))
            o.append("level", .string(d?.level.rawValue ?? "invariant"))
            o.append("message", .string(f.message))
            if let summary = f.summary { o.append("summary", .string(summary)) }
            o.append(
                "exchanges",
                .array(
                    f.exchanges.map { e in
                        .object(
                            KafkaObject([
                                ("connection", .int(Int64(bitPattern: e.connection))),
                                ("correlationId", .int(Int64(e.correlationId))),
                                ("apiName", .string(e.apiName)),
                                ("timeNs", .int(e.timeNs)),
                            ]))
                    }))
            o.append("details", .object(KafkaObject(f.details.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
            findingValues.append(.object(o))
        }
        var byInvariant = KafkaObject()
        for id in failedInvariants { byInvariant.append(id.description, .int(Int64(counts[id] ?? 0))) }
        let summary = KafkaObject([
            ("findings", .int(Int64(totalFindings))),
            ("byInvariant", .object(byInvariant)),
            ("exchanges", .int(Int64(statistics.exchanges))),
            ("connections", .int(Int64(statistics.connections))),
            ("records", .int(Int64(statistics.records))),
            ("frameBytes", .int(statistics.frameBytes)),
        ])
        let top = KafkaObject([
            ("capture", .string(capturePath)),
            ("clean", .bool(isClean)),
            ("summary", .object(summary)),
            ("checked", .array(checked.map { .string($0.description) })),
            ("findings", .array(findingValues)),
            ("notes", .array(notes.map { .string($0) })),
        ])
        return KafkaJSON.render(.object(top))
    }

    static func describe(_ e: ExchangeReference) -> String {
        "conn \(e.connection) #\(e.correlationId) \(e.apiName) at \(formatTime(e.timeNs))"
    }

    /// `I1-I6, I8` style.
    static func ranges(_ ids: [InvariantID]) -> String {
        var parts: [String] = []
        var i = 0
        let n = ids.map(\.number).sorted()
        while i < n.count {
            var j = i
            while j + 1 < n.count && n[j + 1] == n[j] + 1 { j += 1 }
            parts.append(i == j ? "I\(n[i])" : "I\(n[i])-I\(n[j])")
            i = j + 1
        }
        return parts.isEmpty ? "nothing" : parts.joined(separator: ", ")
    }

    static func shellQuote(_ s: String) -> String {
        let safe = s.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "/._-+:=,@".unicodeScalars.contains(c)
        }
        return safe && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// `2024-05-01T12:00:00.123Z` from ns since the Unix epoch (UTC, civil calendar).
    static func formatTime(_ raw: Int64) -> String {
        // Wall clocks come from the capture; keep absurd ones within years the calendar code handles.
        let ns = Swift.min(Swift.max(raw, -(1 << 62)), 1 << 62)
        let ms = ns >= 0 ? ns / 1_000_000 : (ns - 999_999) / 1_000_000
        var secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let millis = ms - secs * 1000
        var days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400
        secs -= days * 86400
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secs / 3600, 2)):\(pad(secs % 3600 / 60, 2)):\(pad(secs % 60, 2)).\(pad(millis, 3))Z"
    }
}

/// Times in reports: `2024-05-01T12:00:00.123Z` (UTC, millisecond precision).
public enum CheckReportTime {
    /// `nsSinceEpoch` as an ISO 8601 UTC time with milliseconds.
    public static func format(_ nsSinceEpoch: Int64) -> String { CheckReport.formatTime(nsSinceEpoch) }
}
