import KafkaCapture
import KafkaProtocol
import NIOCore

/// One exchange as the invariants see it: the frames decoded once, plus what the model derived from
/// them (Produce and Fetch partitions with their decoded record batches, record comparisons).
public final class ExchangeContext {
    /// The paired frames as captured.
    public let exchange: Exchange
    /// How findings point at this exchange.
    public let reference: ExchangeReference
    /// The decoded request, when it decodes.
    public let request: KafkaDecodedRequest?
    /// Why the request did not decode, when it did not.
    public let requestError: KafkaDecodingError?
    /// The decoded response, when there is one and it decodes.
    public let response: KafkaDecodedResponse?
    /// Why the response did not decode, when it did not.
    public let responseError: KafkaDecodingError?
    /// An ApiVersions response decoded as v0 because it did not decode at the request's version: how
    /// brokers answer a version they do not support (KIP-511), and how clients parse it.
    public let responseIsApiVersionsFallback: Bool

    /// Produce partitions (request and response side by side), for Produce exchanges.
    public internal(set) var produced: [ProducedPartition] = []
    /// The fetch request's positions and response partitions, for Fetch exchanges.
    public internal(set) var fetch: FetchView?
    /// Records whose content disagrees with what the capture saw before at the same offset.
    public internal(set) var recordMismatches: [RecordMismatch] = []
    /// Fetched records equal in content to what was produced at their offset but not in timestamp or
    /// timestamp type (I30).
    public internal(set) var timestampMismatches: [RecordMismatch] = []
    /// The request rendered as a generic tree (rendered once, on first use).
    public private(set) lazy var requestValue: KafkaValue? = request.map { $0.body.kafkaValue(version: $0.apiVersion) }
    /// The response rendered as a generic tree (rendered once, on first use).
    public private(set) lazy var responseValue: KafkaValue? = response.map { $0.body.kafkaValue(version: $0.apiVersion) }
    /// Every non-zero `ErrorCode` in the response with its place and error message, in order (found
    /// once, on first use).
    public private(set) lazy var responseErrors: [ResponseError] = Self.responseErrors(responseValue)
    /// Index of this exchange in the model's reference table, once stored there.
    var storedReference: Int32 = -1

    /// Decodes both frames of `exchange` (the model fills in the derived views).
    public init(_ exchange: Exchange) {
        self.exchange = exchange
        let decoded = DecodedExchange(exchange)
        reference = ExchangeReference(
            connection: exchange.connectionId, correlationId: exchange.correlationId, apiName: decoded.apiName,
            timeNs: exchange.requestTimeNs)
        switch decoded.request {
        case .success(let r):
            request = r
            requestError = nil
        case .failure(let e):
            request = nil
            requestError = e
        }
        switch decoded.response {
        case .success(let r)?:
            response = r
            responseError = nil
        case .failure(let e)?:
            response = nil
            responseError = e
        case nil:
            response = nil
            responseError = nil
        }
        responseIsApiVersionsFallback = decoded.responseIsApiVersionsFallback
    }

    /// The request's API key.
    public var apiKey: Int16 { exchange.apiKey }
    /// The request's version.
    public var apiVersion: Int16 { exchange.apiVersion }
    /// Monotonic ns when the request was captured.
    public var requestTimeNs: UInt64 { exchange.request.time.monotonicNs }
    /// Monotonic ns when the response was captured.
    public var responseTimeNs: UInt64? { exchange.response?.time.monotonicNs }

    /// The request body as `T`, when it decoded as one.
    public func requestBody<T: KafkaMessage>(_ type: T.Type) -> T? { request?.body as? T }
    /// The response body as `T`, when it decoded as one.
    public func responseBody<T: KafkaMessage>(_ type: T.Type) -> T? { response?.body as? T }
}
