import KafkaProtocol

/// I22: no answer carries UNKNOWN_SERVER_ERROR (-1).
///
/// Kafka's `Errors.UNKNOWN_SERVER_ERROR` is what a broker sends when a request failed with an
/// exception it has no code for: a bug or an unexpected state on the broker, never an answer a client
/// can act on (clients treat it as fatal or retry blindly). Every occurrence, at any level of any
/// response, is a finding; the message quotes the error message beside it.
public final class UnknownServerError: Invariant {
    /// `I22` in reports and `--only`/`--skip`: no answer is UNKNOWN_SERVER_ERROR.
    public let id = InvariantID(22)
    /// A fresh I22 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I22 (no answer is UNKNOWN_SERVER_ERROR).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.response != nil else { return [] }
        var out: [Finding] = []
        for e in exchange.responseErrors where e.code == -1 {
            let at = e.path.isEmpty ? "" : " at \(e.path)"
            let why: String
            switch e.message {
            case .string(let m)? where !m.isEmpty: why = ", error message \"\(m)\""
            case nil: why = ""
            default: why = ", with no error message"
            }
            out.append(
                Finding(
                    id, "\(exchange.reference.apiName) v\(exchange.apiVersion) answered UNKNOWN_SERVER_ERROR (-1)\(at)\(why).",
                    exchanges: [exchange.reference],
                    details: ["apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion), "path": e.path]))
        }
        return out
    }
}
