/// An exchange a finding points at: enough for `kafkatape dump CAPTURE --connection N` to show it.
public struct ExchangeReference: Hashable, Sendable {
    /// The connection id, as in the capture.
    public var connection: UInt64
    /// The request's correlation id.
    public var correlationId: Int32
    /// `Fetch`, `Produce`, ... (`ApiKey77` for keys the codec does not know).
    public var apiName: String
    /// When the request was captured: wall clock, ns since the Unix epoch.
    public var timeNs: Int64

    /// A reference from its parts.
    public init(connection: UInt64, correlationId: Int32, apiName: String, timeNs: Int64) {
        self.connection = connection
        self.correlationId = correlationId
        self.apiName = apiName
        self.timeNs = timeNs
    }
}

/// One violation of one invariant.
public struct Finding: Hashable, Sendable {
    /// Which invariant.
    public var invariant: InvariantID
    /// One sentence about this occurrence (the invariant's general explanation is in the catalogue).
    public var message: String
    /// The exchanges involved, the one that shows the violation first.
    public var exchanges: [ExchangeReference]
    /// Machine-readable particulars (`topic`, `partition`, `offset`, `expected`, `actual`, ...).
    public var details: [String: String]
    /// What repeats of this finding share, when the message names things that differ per occurrence
    /// (a correlation id, a latency): the text report aggregates findings by it (`×N`, first and
    /// last), and by the message when it is nil.
    public var summary: String?

    /// The text the report aggregates by.
    public var aggregationKey: String { summary ?? message }

    /// A finding of `invariant` with a one-sentence `message`, the exchanges that show it, machine-readable
    /// `details` and, for findings that repeat, the `summary` they aggregate by.
    public init(
        _ invariant: InvariantID, _ message: String, exchanges: [ExchangeReference] = [], details: [String: String] = [:],
        summary: String? = nil
    ) {
        self.invariant = invariant
        self.message = message
        self.summary = summary
        self.exchanges = exchanges
        self.details = details
    }
}
