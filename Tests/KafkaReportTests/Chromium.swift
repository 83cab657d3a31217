import Foundation
@testable import KafkaTapeTestSupport

/// Debian's `chromium` in headless mode (tools/setup installs it): loads a page, lets its script run,
/// and gives back the DOM it rendered, or a screenshot.
enum Chromium {
    static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    static var available: Bool { path != nil && Harness.available }

    /// Where screenshots go: `.build/test-artifacts/` of the package.
    static var artifacts: String {
        let dir = Harness.root.appendingPathComponent(".build/test-artifacts").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func arguments(_ extra: [String]) -> [String] {
        // A profile of its own per launch: tests run in parallel and a shared profile is locked.
        let profile = Harness.tempPath("chromium-profile")
        return [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
            "--disable-background-networking", "--user-data-dir=\(profile)",
        ] + extra
    }

    /// The DOM after the page's script ran (virtual time lets timers and animation frames fire).
    static func dumpDOM(_ file: String, fragment: String = "") throws -> String {
        guard let chromium = path else { throw TestFailure("chromium is not installed (tools/setup installs it)") }
        let url = URL(fileURLWithPath: file).absoluteString + fragment
        let r = try Harness.run(chromium, arguments(["--dump-dom", "--virtual-time-budget=5000", url]), timeout: 90)
        guard r.status == 0, r.stdout.contains("<html") else {
            throw TestFailure("chromium exited \(r.status) on \(url): \(r.stderr.suffix(600))")
        }
        return r.stdout
    }

    /// A PNG of the page as a 1400x900 window shows it.
    static func screenshot(_ file: String, to png: String, size: String = "1400,900") throws {
        guard let chromium = path else { throw TestFailure("chromium is not installed (tools/setup installs it)") }
        try? FileManager.default.removeItem(atPath: png)
        let url = URL(fileURLWithPath: file).absoluteString
        let r = try Harness.run(
            chromium, arguments(["--screenshot=\(png)", "--window-size=\(size)", "--hide-scrollbars", "--virtual-time-budget=5000", url]),
            timeout: 90)
        guard FileManager.default.fileExists(atPath: png) else {
            throw TestFailure("chromium wrote no screenshot (exit \(r.status)): \(r.stderr.suffix(600))")
        }
    }
}

/// Small readers of the dumped DOM: attribute values of elements matched by a marker.
enum DOM {
    /// Every opening tag that contains `marker` (e.g. `class="chip api"`).
    static func tags(_ html: String, containing marker: String) -> [String] {
        var out: [String] = []
        var rest = html[...]
        while let r = rest.range(of: marker) {
            let open = rest[..<r.upperBound].lastIndex(of: "<") ?? r.lowerBound
            let close = rest[r.upperBound...].firstIndex(of: ">") ?? rest.endIndex
            out.append(String(rest[open..<close]))
            rest = rest[close...]
        }
        return out
    }

    /// The value of `name="..."` in one tag (entities for quotes and ampersands undone).
    static func attribute(_ tag: String, _ name: String) -> String? {
        guard let r = tag.range(of: " \(name)=\"") else { return nil }
        let value = tag[r.upperBound...].prefix { $0 != "\"" }
        return String(value).replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func body(_ html: String) -> String? { tags(html, containing: "<body").first }
}
