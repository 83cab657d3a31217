/// A response (or struct) with `ErrorCode` fields somewhere inside it. Generated for every response
/// schema, so tools can read or stage error codes (fault injection, checks) with one mechanism.
public protocol KafkaErrorCodeCarrier {
    /// Visits every `ErrorCode` present at `version`, outermost first; changes made by `body` are kept.
    mutating func rewriteErrorCodes(version: Int16, _ body: (inout Int16) -> Void)
}
