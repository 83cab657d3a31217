/// A pattern that does not parse.
public struct FieldPatternError: Error, Hashable, Sendable, CustomStringConvertible {
    public var pattern: String
    public var reason: String
    public var description: String { "bad field path '\(pattern)': \(reason)" }
}
