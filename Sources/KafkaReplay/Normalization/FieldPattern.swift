import KafkaProtocol

/// A pattern over field paths, as `--ignore` takes it and the default noise rules are written:
///
///     [QUALIFIER:]...SEGMENT.SEGMENT...
///
/// - Segments are field names (`HighWatermark`, compared case-insensitively; `*` is any one field),
///   `**` (any number of steps, including none), and element selectors after a field name:
///   `Topics[]` or `Topics[*]` any element, `Topics[0]` a position, `Topics[name=orders]` the element
///   whose field `name` (case-insensitive) has that value.
/// - Arrays need not be spelled out: `Responses.Partitions.HighWatermark` matches every element, the
///   same as `Responses[].Partitions[].HighWatermark`.
/// - Qualifiers narrow the pattern to one API (`ListOffsets:`), one direction (`request:` or
///   `response:`), or both (`ListOffsets:response:**.Timestamp`).
/// - A pattern is anchored at the message root; start it with `**.` to match at any depth.
///
/// Matching a field removes it and everything below it from comparison.
public struct FieldPattern: Hashable, Sendable, CustomStringConvertible {
    /// A qualifier that limits a pattern to requests or to responses.
    public enum Direction: String, Hashable, Sendable {
        /// Requests (`request:`) or responses (`response:`).
        case request, response
    }

    /// Which elements of an array a segment selects.
    public enum ElementSelector: Hashable, Sendable {
        /// Every element (`[]` or `[*]`).
        case any
        /// The element at a position (`[0]`).
        case index(Int)
        /// The element whose field `name` has `value` (`[name=orders]`; the name is compared case-insensitively).
        case key(name: String, value: String)
    }

    /// One step of a pattern.
    public enum Segment: Hashable, Sendable {
        /// `**`
        case anyDepth
        /// A field name, lowercased; `*` matches any field.
        case field(String)
        /// An element selector after a field name.
        case element(ElementSelector)
    }

    /// Lowercased API name, when qualified.
    public var apiName: String?
    /// The direction, when qualified.
    public var direction: Direction?
    /// The steps, anchored at the message root.
    public var segments: [Segment]
    /// The text the pattern was parsed from.
    public let text: String
    /// The lowercased field name the pattern ends with, when it ends with a plain name: a path can
    /// only match if its last step is that field (a cheap test before the real match).
    public let lastField: String?

    /// The pattern as written.
    public var description: String { text }

    /// Parses a pattern; the error names the pattern and what is wrong with it.
    public init(_ text: String) throws(FieldPatternError) {
        self.text = text
        var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        // A key value may contain ':' only inside brackets; rejoin anything after the first bracket.
        if let bracket = parts.firstIndex(where: { $0.contains("[") }), bracket < parts.count - 1 {
            let joined = parts[bracket...].joined(separator: ":")
            parts = Array(parts[..<bracket]) + [joined]
        }
        guard let pathText = parts.last, !pathText.isEmpty else {
            throw FieldPatternError(pattern: text, reason: "empty path")
        }
        for q in parts.dropLast() {
            let lower = q.lowercased()
            if let d = Direction(rawValue: lower) {
                guard direction == nil else { throw FieldPatternError(pattern: text, reason: "two directions") }
                direction = d
            } else if let api = KafkaAPIs.all.first(where: { $0.name.lowercased() == lower }) {
                guard apiName == nil else { throw FieldPatternError(pattern: text, reason: "two API names") }
                apiName = api.name.lowercased()
            } else {
                throw FieldPatternError(
                    pattern: text, reason: "'\(q)' is neither an API name (see `kafkatape apis`) nor request/response")
            }
        }
        let parsed = try Self.parseSegments(pathText, pattern: text)
        segments = parsed
        if case .field(let name)? = parsed.last, name != "*" { lastField = name } else { lastField = nil }
    }

    static func parseSegments(_ s: String, pattern: String) throws(FieldPatternError) -> [Segment] {
        var out: [Segment] = []
        var name = ""
        var chars = Array(s)
        chars.append(".")
        var i = 0
        var expectName = true
        func flushName() throws(FieldPatternError) {
            if name.isEmpty {
                if expectName { throw FieldPatternError(pattern: pattern, reason: "empty segment") }
                return
            }
            out.append(name == "**" ? .anyDepth : .field(name.lowercased()))
            name = ""
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case ".":
                try flushName()
                expectName = true
            case "[":
                try flushName()
                guard let close = chars[i...].firstIndex(of: "]") else {
                    throw FieldPatternError(pattern: pattern, reason: "'[' without ']'")
                }
                let inner = String(chars[(i + 1)..<close]).trimmingSpaces()
                if inner.isEmpty || inner == "*" {
                    out.append(.element(.any))
                } else if let eq = inner.firstIndex(of: "=") {
                    let k = String(inner[..<eq]).trimmingSpaces()
                    let v = String(inner[inner.index(after: eq)...]).trimmingSpaces()
                    guard !k.isEmpty else { throw FieldPatternError(pattern: pattern, reason: "empty key name in [\(inner)]") }
                    out.append(.element(.key(name: k.lowercased(), value: v)))
                } else if let n = Int(inner), n >= 0 {
                    out.append(.element(.index(n)))
                } else {
                    throw FieldPatternError(pattern: pattern, reason: "bad element selector [\(inner)]")
                }
                i = close
                expectName = false
            default:
                if !expectName && name.isEmpty {
                    throw FieldPatternError(pattern: pattern, reason: "expected '.' after ']'")
                }
                name.append(c)
            }
            i += 1
        }
        guard !out.isEmpty else { throw FieldPatternError(pattern: pattern, reason: "empty path") }
        return out
    }

    /// Whether the pattern applies to messages of `api` (its name) in `direction`.
    public func applies(api: String, direction: Direction) -> Bool {
        if let d = self.direction, d != direction { return false }
        if let a = apiName, a != api.lowercased() { return false }
        return true
    }

    /// Whether the pattern matches exactly this path (callers test every node as they walk down, so a
    /// match on a field covers its subtree).
    public func matches(_ path: FieldPath) -> Bool {
        if let lastField {
            guard case .field(let name)? = path.components.last, name.lowercased() == lastField else { return false }
        }
        return Self.match(segments[...], path.components[...])
    }

    /// `matches` for a path whose last step is the field `lowercasedName` (callers lowercase once per field).
    func matches(_ path: FieldPath, lastFieldLowercased lowercasedName: String) -> Bool {
        if let lastField, lastField != lowercasedName { return false }
        return Self.match(segments[...], path.components[...])
    }

    static func match(_ segs: ArraySlice<Segment>, _ comps: ArraySlice<FieldPathComponent>) -> Bool {
        guard let seg = segs.first else { return comps.isEmpty }
        switch seg {
        case .anyDepth:
            var rest = comps
            while true {
                if match(segs.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        case .field(let name):
            guard let c = comps.first else { return false }
            switch c {
            case .element:
                // Arrays need not be spelled out.
                return match(segs, comps.dropFirst())
            case .field(let actual):
                guard name == "*" || name == actual.lowercased() else { return false }
                return match(segs.dropFirst(), comps.dropFirst())
            }
        case .element(let selector):
            guard case .element(let index, let key)? = comps.first else { return false }
            switch selector {
            case .any: break
            case .index(let n): if n != index { return false }
            case .key(let name, let value):
                guard let key, key.name.lowercased() == name, key.value == value else { return false }
            }
            return match(segs.dropFirst(), comps.dropFirst())
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
