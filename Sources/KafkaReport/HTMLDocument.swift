import Foundation
import KafkaProtocol

/// Assembles one self-contained page: the stylesheet, the script and the data inline, nothing
/// fetched. Data goes in `<script type="application/json">` blocks (parsed by the page) and exchange
/// JSON in `application/x-ndjson` blocks, one `dump --json` line per exchange, parsed only when an
/// exchange is opened: a page of 100,000 exchanges then costs one string, not 100,000 objects.
struct HTMLDocument {
    var title: String
    private var blocks: [String] = []

    init(title: String) {
        self.title = title
    }

    /// A JSON data block with this element id.
    mutating func addJSON(id: String, _ json: String) {
        blocks.append("<script type=\"application/json\" id=\"\(id)\">\(Self.scriptSafe(json))</script>\n")
    }

    /// Exchange JSON, one line each, in the order the data block's indices use.
    mutating func addLines(id: String, _ lines: [String]) {
        var text = ""
        text.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 1 })
        for line in lines {
            text += Self.scriptSafe(line)
            text += "\n"
        }
        blocks.append("<script type=\"application/x-ndjson\" id=\"\(id)\">\n\(text)</script>\n")
    }

    /// The whole page.
    func render() -> String {
        var page = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        page += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        page += "<title>\(Self.escape(title))</title>\n<style>\n\(ReportAssets.css)</style>\n</head>\n"
        page += "<body data-state=\"loading\">\n"
        page += ReportAssets.body
        for b in blocks { page += b }
        page += "<script>\n\(ReportAssets.script)</script>\n</body>\n</html>\n"
        return page
    }

    /// `</` would end the script element early (`</script>` inside a decoded record value); in JSON
    /// text it only occurs inside strings, where `<\/` is the same string. `<!--` would switch the
    /// HTML parser into its script-data escaped state, so it is broken up the same way.
    static func scriptSafe(_ json: String) -> String {
        guard json.contains("<") else { return json }
        return json.replacingOccurrences(of: "</", with: "<\\/").replacingOccurrences(of: "<!--", with: "<\\u0021--")
    }

    /// Text for HTML content and attributes.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String { KafkaJSON.render(.string(s)) }
}
