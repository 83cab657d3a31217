import KafkaCapture

/// I27: the proxy reached the broker.
///
/// When the proxy cannot connect to the upstream broker for a client connection, or cannot open the
/// listener for a broker node (address rewriting gives each node its own port), it records an event
/// of kind `upstream-unreachable` and the client sees the connection close without an answer. Such a
/// session did not test the broker at all, so the capture is not clean: each event is a finding
/// (repeats of the same failure are aggregated by the report).
public final class BrokerReachable: Invariant {
    /// `I27` in reports and `--only`/`--skip`: the proxy reached the broker.
    public let id = InvariantID(27)
    /// A fresh I27 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Watches the raw capture records for I27 (the proxy reached the broker).
    public func observe(record: CaptureRecord, _ context: CheckContext) -> [Finding] {
        guard case .event(let e) = record, e.kind == .upstreamUnreachable else { return [] }
        let ref = ExchangeReference(
            connection: e.connectionId ?? 0, correlationId: -1, apiName: "connection", timeNs: e.time.wallNs)
        let upstream = e.connectionId.flatMap { context.model.connections[$0]?.upstreamAddress }
        let what = e.connectionId == nil ? "a node listener could not be opened" : "a connection could not reach the broker"
        var details = ["event": e.kind.rawValue, "message": e.message]
        if let upstream { details["upstream"] = upstream }
        return [
            Finding(
                id, "The proxy recorded that \(what)\(upstream.map { " at \($0)" } ?? ""): \(Self.strip(e.message)).",
                exchanges: e.connectionId == nil ? [] : [ref], details: details)
        ]
    }

    /// The event message without its trailing period (the finding's sentence ends with one).
    static func strip(_ message: String) -> String {
        var m = message
        while m.hasSuffix(".") { m.removeLast() }
        return m
    }
}
