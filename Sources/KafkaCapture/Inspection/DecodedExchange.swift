import KafkaProtocol
import NIOCore

/// An exchange with its frames decoded by the codec: what `dump`, `stats`, `diff` and `check` read.
/// A frame that does not decode keeps its error (with API, version, field path and offset).
public struct DecodedExchange: Sendable {
    /// The paired frames as captured (request, optional response, timing, connection).
    public let exchange: Exchange
    /// The request decoded at the version its header names, or the decoding error (API, field path, offset).
    public let request: Result<KafkaDecodedRequest, KafkaDecodingError>
    /// nil when the exchange has no response.
    public let response: Result<KafkaDecodedResponse, KafkaDecodingError>?
    /// The response is an ApiVersions answer decoded as v0 because it did not decode at the request's
    /// version and v0 reads it with UNSUPPORTED_VERSION (35): a broker answers a version it does not
    /// support in v0 format, and clients parse it that way (KIP-511).
    public let responseIsApiVersionsFallback: Bool

    /// Decodes both frames of `exchange` once, here; a response that fails at the request's version is
    /// retried as ApiVersions v0 (see `responseIsApiVersionsFallback`).
    public init(_ exchange: Exchange) {
        self.exchange = exchange
        request = Result { () throws(KafkaDecodingError) in try KafkaFrameCodec.decodeRequest(exchange.request.payload) }
        var fallback = false
        response = exchange.response.map { frame in
            let decoded = Result { () throws(KafkaDecodingError) in
                try KafkaFrameCodec.decodeResponse(frame.payload, apiKey: exchange.apiKey, apiVersion: exchange.apiVersion)
            }
            if case .failure = decoded, exchange.apiKey == 18, exchange.apiVersion > 0,
                let v0 = try? KafkaFrameCodec.decodeResponse(frame.payload, apiKey: 18, apiVersion: 0),
                let body = v0.body as? ApiVersionsResponse, body.errorCode == 35
            {
                fallback = true
                return .success(v0)
            }
            return decoded
        }
        responseIsApiVersionsFallback = fallback
    }

    /// The request body as a generic value tree (field names as in Kafka's specs), or nil when it did not decode.
    public var requestValue: KafkaValue? {
        guard case .success(let r) = request else { return nil }
        return r.body.kafkaValue(version: r.apiVersion)
    }

    /// The response body as a generic value tree, or nil when there is none or it did not decode.
    public var responseValue: KafkaValue? {
        guard case .success(let r)? = response else { return nil }
        return r.body.kafkaValue(version: r.apiVersion)
    }

    /// The API's name (`Fetch`, `Metadata`), or `ApiKeyN` for a key this codec does not know.
    public var apiName: String { exchange.apiName ?? "ApiKey\(exchange.apiKey)" }

    /// The client id from the request header (nullable in Kafka's header v1+), or nil when the request did not decode.
    public var clientId: String? {
        guard case .success(let r) = request else { return nil }
        return r.header.clientId
    }

    /// The first decoding error, if any, as text.
    public var errorDescription: String? {
        if case .failure(let e) = request { return "request: \(e)" }
        if case .failure(let e)? = response { return "response: \(e)" }
        return nil
    }

    /// For a response that does not decode at the request's version: the other versions of its API it
    /// decodes exactly under (the layout the broker wrote). Probed on demand; empty otherwise.
    public func responseVersionsThatDecode() -> [Int16] {
        guard case .success = request, case .failure(let e)? = response, let frame = exchange.response else { return [] }
        switch e.kind {
        case .unknownApiKey, .unsupportedVersion: return []
        default: return KafkaFrameCodec.responseVersionsThatDecode(frame.payload, apiKey: exchange.apiKey, besides: exchange.apiVersion)
        }
    }

    /// `errorDescription`, and for a response written in another version's layout, which version.
    public var errorExplanation: String? {
        guard let error = errorDescription else { return nil }
        let versions = responseVersionsThatDecode()
        return versions.isEmpty ? error : error + "; it decodes exactly as \(KafkaFrameCodec.describeVersions(versions))"
    }

    /// One JSON object (one line) with the keys `dump --json` documents.
    public func jsonLine() -> String {
        var o = KafkaObject()
        o.append("connection", .int(Int64(bitPattern: exchange.connectionId)))
        o.append("correlationId", .int(Int64(exchange.correlationId)))
        o.append("apiKey", .int(Int64(exchange.apiKey)))
        o.append("apiName", exchange.apiName.map { .string($0) } ?? .null)
        o.append("apiVersion", .int(Int64(exchange.apiVersion)))
        o.append("requestTimeNs", .int(exchange.requestTimeNs))
        o.append("latencyNs", exchange.latencyNs.map { .int($0) } ?? .null)
        o.append("clientId", clientId.map { .string($0) } ?? .null)
        o.append("request", requestValue ?? .null)
        o.append("response", responseValue ?? .null)
        if let missing = exchange.missingResponse { o.append("missingResponse", .string(missing.description)) }
        if exchange.request.flags.contains(.redacted) { o.append("redacted", .bool(true)) }
        if let error = errorExplanation {
            o.append("error", .string(error))
            o.append("requestHex", .string(Hex.encode(exchange.request.payload)))
            if let r = exchange.response { o.append("responseHex", .string(Hex.encode(r.payload))) }
        }
        return KafkaJSON.render(.object(o))
    }

    /// One line for people: connection, correlation id, API and version, latency, and a compact summary.
    public func summaryLine() -> String {
        var line = "conn \(exchange.connectionId) #\(exchange.correlationId) \(apiName) v\(exchange.apiVersion)"
        if let latency = exchange.latencyNs {
            line += " " + Self.formatLatency(latency)
        } else if let missing = exchange.missingResponse {
            line += " (\(missing.description))"
        }
        if let req = requestValue {
            let s = ExchangeSummary.summarize(req)
            if !s.isEmpty { line += "  > " + s }
        }
        if let resp = responseValue {
            let s = ExchangeSummary.summarize(resp)
            if !s.isEmpty { line += "  < " + s }
        }
        if let error = errorExplanation { line += "  !! \(error)" }
        if exchange.responseOutOfOrder { line += "  !! response out of order" }
        return line
    }

    /// A latency for people: µs below a millisecond, ms below a second, else s, with one decimal at most.
    public static func formatLatency(_ ns: Int64) -> String {
        if ns < 1_000_000 { return String(format1(Double(ns) / 1000)) + "µs" }
        if ns < 1_000_000_000 { return String(format1(Double(ns) / 1_000_000)) + "ms" }
        return String(format1(Double(ns) / 1_000_000_000)) + "s"
    }

    static func format1(_ d: Double) -> String {
        let scaled = (d * 10).rounded() / 10
        return scaled == scaled.rounded() ? String(Int(scaled)) : String(scaled)
    }
}

/// Lower-case hexadecimal for raw bytes in `dump` and diff output.
public enum Hex {
    /// The readable bytes of `b` as two lower-case hex digits each, without separators.
    public static func encode(_ b: ByteBuffer) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.readableBytes * 2)
        for byte in b.readableBytesView {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
