import Foundation
import KafkaCapture
import KafkaCheck
import KafkaProtocol
import KafkaReplay
import Testing

@testable import KafkaReport
@testable import KafkaTapeTestSupport

/// The pages in a real browser: `kafkatape report` / `diff --html` write them, headless Chromium
/// renders them, and the tests read what the page drew from its data (the expected values come from
/// the libraries reading the same captures). Screenshots land in .build/test-artifacts/.
@Suite(.serialized, .enabled(if: Chromium.available, "needs the kafkatape binary and chromium (tools/setup)"))
struct ReportBrowserTests {
    static let staleFetch = Harness.root.appendingPathComponent("captures/schema-registry-stale-fetch/session.ktape").path
    static let clean = Harness.root.appendingPathComponent("captures/schema-registry-clean/session.ktape").path

    /// Connection ids and API names a capture holds, read with the capture library.
    static func facts(_ path: String) throws -> (connections: Set<UInt64>, apis: Set<String>) {
        let (records, _) = try Harness.readCapture(path)
        var connections: Set<UInt64> = []
        var apis: Set<String> = []
        for r in records { if case .connectionOpened(let o) = r { connections.insert(o.connectionId) } }
        for case .exchange(let e) in ExchangeTracker.pair(records) { apis.insert(e.apiName ?? "ApiKey\(e.apiKey)") }
        return (connections, apis)
    }

    @Test func staleFetchReportShowsTheFindingLinkedToItsExchange() throws {
        let page = Harness.tempPath("stale-fetch.html")
        let r = try Harness.run(Harness.kafkatape, ["report", Self.staleFetch, "--check", "--out", page])
        #expect(r.status == 0, "report exited \(r.status): \(r.stderr)")
        #expect(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == page)

        let html = try String(contentsOfFile: page, encoding: .utf8)
        // Self-contained: nothing is fetched.
        for external in ["src=\"http", "href=\"http", "@import", "url(", "<link"] {
            #expect(!html.contains(external), "the page refers to something outside it: \(external)")
        }

        let dom = try Chromium.dumpDOM(page)
        let body = try #require(DOM.body(dom))
        #expect(DOM.attribute(body, "data-state") == "ready", "page did not finish: \(DOM.attribute(body, "data-error") ?? body)")
        #expect(DOM.attribute(body, "data-render-ms").flatMap(Double.init) != nil)

        let facts = try Self.facts(Self.staleFetch)
        let count = try #require(DOM.tags(dom, containing: "id=\"conn-count\"").first)
        #expect(DOM.attribute(count, "data-count") == String(facts.connections.count))
        let shownConnections = Set(DOM.tags(dom, containing: "class=\"chip connection\"").compactMap { DOM.attribute($0, "data-connection").flatMap(UInt64.init) })
        #expect(shownConnections == facts.connections)
        let shownApis = Set(DOM.tags(dom, containing: "class=\"chip api\"").compactMap { DOM.attribute($0, "data-api") })
        #expect(shownApis == facts.apis)
        let statRows = Set(DOM.tags(dom, containing: "class=\"api-row\"").compactMap { DOM.attribute($0, "data-api") })
        #expect(statRows == facts.apis)

        // The stale fetch: check's first I3 finding, linked to the Fetch it is about.
        let report = try checkCaptureForTest(Self.staleFetch)
        let i3 = try #require(report.findings.first { $0.invariant == InvariantID(3) }, "check no longer finds I3 on the stale-fetch capture")
        let target = try #require(i3.exchanges.first)
        let findings = DOM.tags(dom, containing: "class=\"finding")
        // Alike findings are one entry with their count: together, every finding check listed.
        #expect(findings.compactMap { DOM.attribute($0, "data-count").flatMap(Int.init) }.reduce(0, +) == report.findings.count)
        #expect(findings.contains { DOM.attribute($0, "data-finding") == "I3" })
        let links = DOM.tags(dom, containing: "class=\"exlink\"")
        let link = links.first {
            DOM.attribute($0, "data-connection") == String(target.connection) && DOM.attribute($0, "data-correlation-id") == String(target.correlationId)
        }
        let found = try #require(link, "no link to conn \(target.connection) #\(target.correlationId)")
        #expect(DOM.attribute(found, "data-api") == "Fetch")
        #expect(DOM.attribute(found, "data-exchange").flatMap(Int.init).map { $0 >= 0 } == true, "the finding's exchange is not on the timeline")
        #expect(dom.contains(i3.message.replacingOccurrences(of: "&", with: "&amp;")))

        // Following the link opens that exchange in the viewer, decoded as dump --json decodes it.
        let opened = try Chromium.dumpDOM(page, fragment: "#x=\(target.connection):\(target.correlationId)")
        let viewer = try #require(DOM.tags(opened, containing: "id=\"viewer\"").first)
        #expect(DOM.attribute(viewer, "data-connection") == String(target.connection))
        #expect(DOM.attribute(viewer, "data-correlation-id") == String(target.correlationId))
        #expect(DOM.attribute(viewer, "data-api") == "Fetch")
        // The viewer names the findings about the exchange.
        #expect(DOM.tags(opened, containing: "class=\"head finding-of\"").contains { DOM.attribute($0, "data-finding") == "I3" })
        let fetchOffset = try #require(i3.details["fetchOffset"], "I3 details: \(i3.details)")
        #expect(opened.contains("FetchOffset: </span><span class=\"n\">\(fetchOffset)</span>"))

        try Chromium.screenshot(page, to: Chromium.artifacts + "/report-stale-fetch.png")
    }

    @Test func diffPageHighlightsTheDifferingFields() throws {
        let page = Harness.tempPath("diff.html")
        let r = try Harness.run(Harness.kafkatape, ["diff", Self.staleFetch, Self.clean, "--html", page])
        #expect(r.status == 1, "diff of the stale-fetch and clean captures should find differences: \(r.stderr)")
        let a = try RecordedSession.read(path: Self.staleFetch)
        let b = try RecordedSession.read(path: Self.clean)
        let expected = CaptureDiff(rules: .standard()).compare(a, b, pathA: Self.staleFetch, pathB: Self.clean)
        let firstDiffering = try #require(expected.exchanges.first { $0.status != .same })

        let dom = try Chromium.dumpDOM(page)
        let body = try #require(DOM.body(dom))
        #expect(DOM.attribute(body, "data-state") == "ready", "page did not finish: \(DOM.attribute(body, "data-error") ?? body)")
        let rows = DOM.tags(dom, containing: "class=\"xrow")
        #expect(rows.count == expected.exchanges.filter { $0.status != .same }.count)
        #expect(rows.filter { DOM.attribute($0, "data-status") == "differs" }.count == expected.differingCount)
        // The first differing exchange is open: its differences listed, each highlighted in the trees.
        let listed = Set(DOM.tags(dom, containing: "class=\"difference\"").compactMap { DOM.attribute($0, "data-path") })
        let paths = Set((firstDiffering.requestDifferences + firstDiffering.responseDifferences).map(\.path.description))
        #expect(listed == paths)
        let highlighted = DOM.tags(dom, containing: "data-path=").filter {
            (DOM.attribute($0, "class") ?? "").split(separator: " ").contains("hl")
        }
        let present = Set(highlighted.filter { !(DOM.attribute($0, "class") ?? "").contains("missing") }.compactMap { DOM.attribute($0, "data-path") })
        // A field present on both sides is highlighted on both: once in A's tree and once in B's.
        for d in firstDiffering.requestDifferences + firstDiffering.responseDifferences where d.a != nil && d.b != nil {
            #expect(present.contains(d.path.description), "\(d.path) is not highlighted; highlighted: \(present)")
            #expect(highlighted.filter { DOM.attribute($0, "data-path") == d.path.description }.count == 2)
        }
        try Chromium.screenshot(page, to: Chromium.artifacts + "/diff-stale-fetch-vs-clean.png")
    }

    @Test func matrixPageShowsEachTargetAgainstTheRecording() throws {
        // A matrix without replays: the clean capture stands for a target's run of the stale-fetch one.
        let recording = try RecordedSession.read(path: Self.staleFetch)
        let run = try RecordedSession.read(path: Self.clean)
        let differ = CaptureDiff(rules: .standard())
        let diff = differ.compare(recording, run, pathA: Self.staleFetch, pathB: Self.clean)
        let matrix = VersionMatrix(
            capture: Self.staleFetch, recording: recording,
            runs: [VersionMatrix.Run(name: "clean", address: "127.0.0.1:1", replay: nil, diff: diff, replayed: run)], pairDiffs: [])
        let page = Harness.tempPath("matrix.html")
        try DiffPage.html(matrix, recording: recording).write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try Chromium.dumpDOM(page)
        let body = try #require(DOM.body(dom))
        #expect(DOM.attribute(body, "data-state") == "ready", "page did not finish: \(DOM.attribute(body, "data-error") ?? body)")
        // Per API, the number of the target's exchanges that differ from the recording.
        #expect(matrix.apis.contains { $0.differing[0] > 0 }, "the clean capture should differ from the stale-fetch one")
        let cells = DOM.tags(dom, containing: "data-cell=")
        #expect(cells.count == matrix.apis.count)
        for row in matrix.apis {
            let cell = cells.first { DOM.attribute($0, "data-cell") == row.api && DOM.attribute($0, "data-target") == "clean" }
            #expect(cell.flatMap { DOM.attribute($0, "data-differing") } == String(row.differing[0]), "\(row.api)")
        }
        #expect(DOM.tags(dom, containing: "class=\"xrow").count == diff.exchanges.filter { $0.status != .same }.count)
    }

    func checkCaptureForTest(_ path: String) throws -> CheckReport {
        let (records, _) = try Harness.readCapture(path)
        let engine = CheckEngine()
        for r in records { engine.process(r) }
        return engine.finish()
    }
}

/// What the page must not let data do.
@Suite struct ReportPageTests {
    @Test func dataCannotCloseTheScriptElement() {
        let hostile = #"{"value":{"utf8":"</script><script>alert(1)</script><!-- x"}}"#
        let safe = HTMLDocument.scriptSafe(hostile)
        #expect(!safe.lowercased().contains("</script"))
        #expect(!safe.contains("<!--"))
        // Still the same JSON.
        let a = try? JSONSerialization.jsonObject(with: Data(hostile.utf8)) as? NSDictionary
        let b = try? JSONSerialization.jsonObject(with: Data(safe.utf8)) as? NSDictionary
        #expect(a != nil && a == b)
    }

    @Test func anEmptyCaptureStillMakesAPage() throws {
        var report = CaptureReport(capturePath: "x.ktape")
        report.finish()
        let html = report.html()
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<script type=\"application/json\" id=\"data\">"))
    }
}

/// The command's file handling, without a browser.
@Suite(.enabled(if: Harness.available, "needs the kafkatape binary"))
struct ReportCommandTests {
    @Test func writesBesideTheCaptureAndReplacesOnlyWithOverwrite() throws {
        let capture = Harness.tempPath("session.ktape")
        try FileManager.default.copyItem(atPath: ReportBrowserTests.clean, toPath: capture)
        let expected = String(capture.dropLast(".ktape".count)) + ".html"
        let first = try Harness.run(Harness.kafkatape, ["report", capture])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected)
        let written = try FileManager.default.attributesOfItem(atPath: expected)[.size] as? Int ?? 0
        #expect(written > 0)

        let again = try Harness.run(Harness.kafkatape, ["report", capture])
        #expect(again.status == 2)
        #expect(again.stderr.split(separator: "\n").count == 1, "one line: \(again.stderr)")
        #expect(again.stderr.contains("--out \(expected)") && again.stderr.contains("--overwrite"))

        let replaced = try Harness.run(Harness.kafkatape, ["report", capture, "--overwrite", "--check"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        let page = try String(contentsOfFile: expected, encoding: .utf8)
        #expect(page.contains("\"check\":{\"capture\":"), "--check embeds check's JSON report")

        let missing = try Harness.run(Harness.kafkatape, ["report", capture + ".missing", "--out", Harness.tempPath("x.html")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains(".missing"))
    }
}
