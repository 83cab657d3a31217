import KafkaCapture

/// I13: on a connection, responses come back in request order, each correlation id matches the
/// oldest outstanding request, and none is missing.
///
/// From the exchange tracker: a response that skipped older outstanding requests
/// (`responseOutOfOrder`), a response matching no outstanding request (a duplicate or unsolicited
/// correlation id), and requests left unanswered when the broker or the proxy closed the connection
/// (a client that closes with requests in flight is its own business; acks=0 needs no answer).
/// Also flagged: a request reusing a correlation id that is still outstanding on its connection.
public final class ResponseOrder: Invariant {
    /// `I13` in reports and `--only`/`--skip`: responses come back in request order.
    public let id = InvariantID(13)
    /// Per connection: correlation ids with the time their request was answered.
    private var inFlight: [UInt64: OutstandingCorrelations] = [:]
    private var endedUnanswered = 0
    /// A fresh I13 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I13 (responses come back in request order).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let e = exchange.exchange
        var out: [Finding] = []
        var details: [String: String] = ["connection": String(e.connectionId), "correlationId": String(e.correlationId)]
        var list = inFlight[e.connectionId] ?? OutstandingCorrelations()
        if let dup = list.outstanding(e.correlationId, at: exchange.requestTimeNs) {
            out.append(
                Finding(
                    id,
                    "Request \(exchange.reference.apiName) on connection \(e.connectionId) reused correlation id \(e.correlationId) while an earlier request with that id was still outstanding.",
                    exchanges: [exchange.reference, dup], details: details,
                    summary: "A request reused a correlation id that was still outstanding on its connection."))
        }
        if e.missingResponse != .notExpected {
            list.insert(e.correlationId, until: exchange.responseTimeNs ?? .max, by: exchange.reference)
        }
        inFlight[e.connectionId] = list
        if e.responseOutOfOrder {
            out.append(
                Finding(
                    id,
                    "The response to \(exchange.reference.apiName) #\(e.correlationId) on connection \(e.connectionId) arrived before the response to an older request on that connection.",
                    exchanges: [exchange.reference], details: details,
                    summary: "A response arrived before the response to an older request on its connection."))
        }
        switch e.missingResponse {
        case .connectionClosed?:
            let closer = context.model.connections[e.connectionId]?.closedBy
            if closer != .client {
                details["closedBy"] = closer?.description ?? "unknown"
                out.append(
                    Finding(
                        id,
                        "\(exchange.reference.apiName) #\(e.correlationId) on connection \(e.connectionId) was never answered: the \(closer?.description ?? "other side") closed the connection first.",
                        exchanges: [exchange.reference], details: details,
                        summary: "A request was never answered: the \(closer?.description ?? "other side") closed the connection first."))
            }
        case .captureEnded?:
            endedUnanswered += 1
        default:
            break
        }
        return out
    }

    /// Checks a response that matches no request, for I13 (responses come back in request order).
    public func observe(unmatched: UnmatchedResponse, _ context: CheckContext) -> [Finding] {
        let ref = ExchangeReference(
            connection: unmatched.connectionId, correlationId: unmatched.correlationId ?? -1, apiName: "response",
            timeNs: unmatched.response.time.wallNs)
        let why: String
        switch unmatched.reason {
        case .tooShort:
            why = "is too short to carry a correlation id"
        case .unknownCorrelationId:
            why = "has correlation id \(unmatched.correlationId ?? -1), which matches no outstanding request (a duplicate or unsolicited response)"
        }
        return [
            Finding(
                id, "A response on connection \(unmatched.connectionId) \(why).", exchanges: [ref],
                details: ["connection": String(unmatched.connectionId), "correlationId": String(unmatched.correlationId ?? -1)],
                summary: unmatched.reason == .tooShort ? nil : "A response's correlation id matches no outstanding request (a duplicate or unsolicited response).")
        ]
    }

    /// Reports what only the whole capture shows for I13 (responses come back in request order).
    public func finish(_ context: CheckContext) -> [Finding] {
        if endedUnanswered > 0 {
            context.note("\(endedUnanswered) request(s) were still outstanding when the capture ended (not a finding)")
        }
        return []
    }
}
