import KafkaProtocol

/// I24: a response carries only error codes the request's version can return.
///
/// New error codes come with new versions of an API (a KIP bumps the version so that only clients
/// that know the code receive it; older versions get an older code instead, e.g. Kafka maps
/// PRODUCER_FENCED to INVALID_PRODUCER_EPOCH for InitProducerId below v4, KIP-588). A code the
/// request's version predates is one its client cannot interpret. The table is
/// `ErrorCodeIntroduction.all`, each entry citing its spec comment or KIP.
public final class ErrorCodesFitVersion: Invariant {
    /// `I24` in reports and `--only`/`--skip`: error codes fit the request version.
    public let id = InvariantID(24)
    /// A fresh I24 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I24 (error codes fit the request version).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.response != nil, !exchange.responseIsApiVersionsFallback else { return [] }
        var out: [Finding] = []
        var seen: Set<Int16> = []
        for e in exchange.responseErrors {
            guard let intro = ErrorCodeIntroduction.minimumVersion(apiKey: exchange.apiKey, errorCode: e.code),
                exchange.apiVersion < intro.minVersion, seen.insert(e.code).inserted
            else { continue }
            out.append(
                Finding(
                    id,
                    "\(exchange.reference.apiName) v\(exchange.apiVersion) answered \(KafkaErrorCode.describe(e.code)), which \(exchange.reference.apiName) can return only from v\(intro.minVersion) (\(intro.source)).",
                    exchanges: [exchange.reference],
                    details: [
                        "apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion), "errorCode": String(e.code),
                        "minVersion": String(intro.minVersion), "path": e.path,
                    ]))
        }
        return out
    }
}
