/// A stable invariant identifier: `I1`, `I2`, ... (`InvariantCatalog` lists the known ones). Parsed case-insensitively, with or without the `I`.
public struct InvariantID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The number after the `I`.
    public let number: Int

    /// An id by number (no range check; `InvariantCatalog.contains` says whether it is known).
    public init(_ number: Int) {
        self.number = number
    }

    /// Parses `I7`, `i7` or `7`; nil for anything else.
    public init?(parsing text: String) {
        var t = Substring(text.trimmingWhitespace())
        if t.first == "I" || t.first == "i" { t = t.dropFirst() }
        guard let n = Int(t), n > 0 else { return nil }
        number = n
    }

    /// `I7`.
    public var description: String { "I\(number)" }

    /// Orders ids by number, so `I2` comes before `I10`.
    public static func < (a: InvariantID, b: InvariantID) -> Bool { a.number < b.number }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
