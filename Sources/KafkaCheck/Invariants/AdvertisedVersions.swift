import KafkaProtocol

/// I15: requests stay within the versions the broker advertised; an unsupported version gets
/// UNSUPPORTED_VERSION (35).
///
/// The advertised ranges come from the ApiVersions answer on the same connection (else the latest
/// from another connection to the same upstream). A request outside them is a finding against the
/// client, noting whether the broker answered 35. ApiVersions itself is exempt from the client rule
/// (clients open with their newest version, KIP-511); instead the broker must answer 35 exactly when
/// the version is beyond what its own answer lists for ApiVersions. A 35 for an advertised version of
/// Produce or Fetch (whose error codes are cheap to read) is a finding against the broker.
public final class AdvertisedVersions: Invariant {
    /// `I15` in reports and `--only`/`--skip`: requests stay within the advertised versions.
    public let id = InvariantID(15)
    /// A fresh I15 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I15 (requests stay within the advertised versions).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        let key = exchange.apiKey
        let v = exchange.apiVersion
        var details = ["apiKey": String(key), "apiVersion": String(v)]
        if key == 18 {
            guard let r = exchange.responseBody(ApiVersionsResponse.self),
                let own = r.apiKeys.first(where: { $0.apiKey == 18 })
            else { return [] }
            details["advertised"] = "\(own.minVersion)-\(own.maxVersion)"
            let supported = v >= own.minVersion && v <= own.maxVersion
            if !supported && r.errorCode != 35 {
                return [
                    Finding(
                        id,
                        "ApiVersions v\(v) is beyond the broker's own ApiVersions range \(own.minVersion)-\(own.maxVersion), yet it answered \(KafkaErrorCode.describe(r.errorCode)) instead of UNSUPPORTED_VERSION (35).",
                        exchanges: [exchange.reference], details: details)
                ]
            }
            if supported && r.errorCode == 35 {
                return [
                    Finding(
                        id,
                        "The broker answered UNSUPPORTED_VERSION to ApiVersions v\(v), a version its answer lists as supported (\(own.minVersion)-\(own.maxVersion)).",
                        exchanges: [exchange.reference], details: details)
                ]
            }
            return []
        }
        guard let advertised = context.model.advertisedVersions(connection: exchange.exchange.connectionId) else {
            context.note("I15 skipped requests on connections whose broker's ApiVersions answer is not in the capture")
            return []
        }
        let name = exchange.reference.apiName
        guard let range = advertised[key] else {
            var answered = ""
            if exchange.response != nil {
                answered = exchange.responseErrorCodes.contains(35) ? " (it answered UNSUPPORTED_VERSION)" : " and the broker answered it without UNSUPPORTED_VERSION (35)"
            }
            details["advertised"] = "none"
            return [
                Finding(
                    id, "The client sent \(name) v\(v), an API the broker did not advertise\(answered).",
                    exchanges: [exchange.reference], details: details)
            ]
        }
        details["advertised"] = "\(range.lowerBound)-\(range.upperBound)"
        if !range.contains(v) {
            var answered = ""
            if exchange.response != nil {
                answered =
                    exchange.responseErrorCodes.contains(35)
                    ? " (the broker answered UNSUPPORTED_VERSION)" : "; the broker answered it without UNSUPPORTED_VERSION (35)"
            } else if exchange.exchange.missingResponse == .connectionClosed {
                answered = " (the connection was closed instead of an answer)"
            }
            return [
                Finding(
                    id,
                    "The client sent \(name) v\(v), outside the versions \(range.lowerBound)-\(range.upperBound) the broker advertised\(answered).",
                    exchanges: [exchange.reference], details: details)
            ]
        }
        let rejected =
            exchange.produced.contains { $0.errorCode == 35 } || (exchange.fetch?.errorCode == 35)
            || (exchange.fetch?.partitions.contains { $0.errorCode == 35 } ?? false)
        if rejected {
            return [
                Finding(
                    id,
                    "The broker answered UNSUPPORTED_VERSION to \(name) v\(v), a version it advertised (\(range.lowerBound)-\(range.upperBound)).",
                    exchanges: [exchange.reference], details: details)
            ]
        }
        return []
    }
}
