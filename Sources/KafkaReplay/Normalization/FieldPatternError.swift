/// A pattern that does not parse.
public struct FieldPatternError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The pattern as given.
    public var pattern: String
    /// What is wrong with it.
    public var reason: String
    /// One line naming the pattern and the reason.
    public var description: String { "bad field path '\(pattern)': \(reason)" }
}
