import KafkaProtocol

/// I34: a request that decodes exactly is not answered INVALID_REQUEST.
///
/// `INVALID_REQUEST` (42) tells the client that its request was malformed ("this most likely occurs
/// because of a request being malformed by the client library", as kafka-go prints it). When the
/// request decodes under its own (key, version) schema with every byte used, as I14 demands, the
/// protocol allows it: the broker's parser is narrower than the protocol (SeaweedFS's gateway answers
/// kafka-go's Produce v2, whose records are a magic-1 message set, that way), or the broker refused it
/// for a reason of its own, which it should then name in the response's error message (quoted). One
/// finding per exchange, at the first error; Produce findings say which record format the request
/// carried. Requests that do not decode, or were redacted or truncated, are not judged.
public final class WellFormedRequestsAccepted: Invariant {
    /// `I34` in reports and `--only`/`--skip`: a well-formed request is not refused as malformed.
    public let id = InvariantID(34)
    /// INVALID_REQUEST.
    static let invalidRequest: Int16 = 42
    /// A fresh I34 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I34 (a well-formed request is not refused as malformed).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.exchange.request.isComplete, exchange.request != nil, exchange.response != nil else { return [] }
        let refused = exchange.responseErrors.filter { $0.code == Self.invalidRequest }
        guard let first = refused.first else { return [] }
        let api = "\(exchange.reference.apiName) v\(exchange.apiVersion)"
        let at = first.path.isEmpty ? "" : " at \(first.path)"
        let more = refused.count > 1 ? " (and \(refused.count - 1) more places)" : ""
        let why: String
        switch first.message {
        case .string(let m)? where !m.isEmpty: why = "; its error message: \"\(m)\""
        case nil: why = "; this version's answer has no error message to say why"
        default: why = ", with no error message to say why"
        }
        var details = ["apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion), "path": first.path]
        var carried = ""
        var carriedPlural = ""
        let magics = Set(exchange.produced.compactMap { p -> [Int8]? in
            guard case .success(let set)? = p.records else { return nil }
            return set.batches.map(\.magic)
        }.joined())
        if !magics.isEmpty {
            let described = magics.sorted().map { $0 >= 2 ? "v2 record batches" : "magic-\($0) message sets" }.joined(separator: " and ")
            details["recordFormat"] = magics.sorted().map(String.init).joined(separator: ",")
            carried = " (its records: \(described))"
            carriedPlural = " (their records: \(described))"
        }
        return [
            Finding(
                id,
                "\(api) was answered INVALID_REQUEST (42)\(at)\(more), though the request decodes exactly under its schema\(carried): the broker could not parse what the protocol allows, or refused it for a reason of its own\(why).",
                exchanges: [exchange.reference], details: details,
                summary: "\(api) requests that decode exactly\(carriedPlural) are answered INVALID_REQUEST (42).")
        ]
    }
}
