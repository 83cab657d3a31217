import KafkaProtocol

/// I14: every response (and request) decodes exactly, with no bytes left over, under its (key,
/// version) schema and header version.
///
/// The codec's whole-frame decoders already demand that every byte is consumed. Not findings:
/// redacted or truncated frames (they are not the bytes that were sent), API keys or versions newer
/// than this codec knows (a limitation of the tool, noted), and ApiVersions answers in v0 format to
/// a version the broker does not support (KIP-511: that is how brokers answer).
public final class FramesDecodeExactly: Invariant {
    public let id = InvariantID(14)
    public init() {}

    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        let e = exchange.exchange
        if let error = exchange.requestError, e.request.isComplete {
            if let f = finding(error, side: "request", exchange, context) { out.append(f) }
        } else if !e.request.isComplete {
            context.note("redacted or truncated frames were not decoded")
        }
        if let error = exchange.responseError, let r = e.response {
            if r.isComplete {
                if let f = finding(error, side: "response", exchange, context) { out.append(f) }
            } else {
                context.note("redacted or truncated frames were not decoded")
            }
        }
        return out
    }

    private func finding(_ error: KafkaDecodingError, side: String, _ exchange: ExchangeContext, _ context: CheckContext)
        -> Finding?
    {
        switch error.kind {
        case .unknownApiKey, .unsupportedVersion:
            context.note("frames of API keys or versions this build's codec does not know were not decoded (\(error.kindDescription))")
            return nil
        default:
            break
        }
        return Finding(
            id,
            "The \(side) of \(exchange.reference.apiName) v\(exchange.apiVersion) #\(exchange.exchange.correlationId) does not decode: \(error.description).",
            exchanges: [exchange.reference],
            details: [
                "side": side, "error": error.description, "apiKey": String(exchange.apiKey),
                "apiVersion": String(exchange.apiVersion),
            ])
    }
}
