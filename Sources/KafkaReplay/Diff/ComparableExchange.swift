import KafkaCapture
import KafkaProtocol
import NIOCore

/// An exchange as comparisons see it: the request and response decoded and normalised.
/// A frame that does not decode is compared by its bytes (after the request's correlation id).
public struct ComparableExchange: Sendable {
    /// The captured exchange it was made from.
    public let exchange: Exchange
    /// The API's name, or `ApiKeyN` for an unknown key.
    public let apiName: String
    /// The normalised request body (or its bytes when it did not decode).
    public let request: KafkaValue
    /// nil when the exchange has no response (see `exchange.missingResponse`).
    public let response: KafkaValue?

    /// Decodes and normalises both frames of `exchange` with `normalizer` (which also renames identifiers).
    public init(_ exchange: Exchange, normalizer: MessageNormalizer) {
        self.exchange = exchange
        let name = exchange.apiName ?? "ApiKey\(exchange.apiKey)"
        apiName = name
        request = Self.normalizedRequest(exchange.request.payload, api: name, normalizer: normalizer)
        if let frame = exchange.response {
            response = Self.normalizedResponse(
                frame.payload, apiKey: exchange.apiKey, apiVersion: exchange.apiVersion, api: name, normalizer: normalizer)
        } else {
            response = nil
        }
    }

    static func normalizedRequest(
        _ payload: ByteBuffer, api: String, normalizer: MessageNormalizer, decoded: KafkaDecodedRequest? = nil
    ) -> KafkaValue {
        do throws(KafkaDecodingError) {
            let request: KafkaDecodedRequest
            if let decoded { request = decoded } else { request = try KafkaFrameCodec.decodeRequest(payload) }
            return normalizer.normalize(request.body.kafkaValue(version: request.apiVersion), api: api, direction: .request)
        } catch {
            // Skip api key, version and correlation id: the rest is what the client asked.
            let rest = payload.getSlice(at: payload.readerIndex + 8, length: max(0, payload.readableBytes - 8)) ?? ByteBuffer()
            return .object(KafkaObject([("undecodable", .string(error.kindDescription)), ("bytes", .bytes(rest))]))
        }
    }

    static func normalizedResponse(
        _ payload: ByteBuffer, apiKey: Int16, apiVersion: Int16, api: String, normalizer: MessageNormalizer
    ) -> KafkaValue {
        do {
            let decoded = try KafkaFrameCodec.decodeResponse(payload, apiKey: apiKey, apiVersion: apiVersion)
            return normalizer.normalize(decoded.body.kafkaValue(version: decoded.apiVersion), api: api, direction: .response)
        } catch {
            let rest = payload.getSlice(at: payload.readerIndex + 4, length: max(0, payload.readableBytes - 4)) ?? ByteBuffer()
            return .object(KafkaObject([("undecodable", .string(error.kindDescription)), ("bytes", .bytes(rest))]))
        }
    }
}
