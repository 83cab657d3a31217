import KafkaProtocol

/// I23 (lint): an error answer says why, when its version has room for it.
///
/// Where a response struct has an `ErrorMessage` next to its `ErrorCode` (CreateTopics v1+, KIP-4;
/// DeleteTopics v5+; Produce v8+ partitions, KIP-467; most admin APIs), Kafka fills it with the
/// exception's message so that operators and clients can tell one cause of a code from another.
/// A non-zero code with a null or empty message in such a version is legal but unhelpful (a client
/// can only print the code's generic text), so it is a lint. Versions without the field are exempt.
public final class ErrorMessagesPresent: Invariant {
    /// `I23` in reports and `--only`/`--skip`: error answers say why.
    public let id = InvariantID(23)
    /// A fresh I23 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I23 (error answers say why).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.response != nil else { return [] }
        var out: [Finding] = []
        for e in exchange.responseErrors {
            let empty: String
            switch e.message {
            case .null?: empty = "null"
            case .string("")?: empty = "empty"
            default: continue
            }
            let at = e.path.isEmpty ? "" : " at \(e.path)"
            out.append(
                Finding(
                    id,
                    "\(exchange.reference.apiName) v\(exchange.apiVersion) answered \(KafkaErrorCode.describe(e.code))\(at) with \(empty == "null" ? "a null" : "an empty") ErrorMessage.",
                    exchanges: [exchange.reference],
                    details: [
                        "apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion), "path": e.path,
                        "errorCode": String(e.code), "errorMessage": empty,
                    ]))
        }
        return out
    }
}
