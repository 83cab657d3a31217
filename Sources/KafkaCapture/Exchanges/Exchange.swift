import KafkaProtocol

/// A request and its response on one connection, paired by correlation id.
public struct Exchange: Hashable, Sendable {
    /// The connection both frames travelled on.
    public var connectionId: UInt64
    /// The request's correlation id (INT32 at payload offset 4), echoed by the response.
    public var correlationId: Int32
    /// The request's API key (INT16 at payload offset 0).
    public var apiKey: Int16
    /// The request's API version (INT16 at payload offset 2).
    public var apiVersion: Int16
    /// The request frame.
    public var request: FrameRecord
    /// The response, or nil (see `missingResponse`).
    public var response: FrameRecord?
    /// Why there is no response, when there is none.
    public var missingResponse: MissingResponse?
    /// The response arrived while an older request on the connection was still unanswered. Kafka
    /// brokers answer in request order (per connection), so this marks something odd.
    public var responseOutOfOrder: Bool
    /// The request's index among the capture's parsable requests, from 0: the order they were sent.
    public var sequence: Int

    /// An exchange (the tracker builds these; tests and tools may too).
    public init(
        connectionId: UInt64, correlationId: Int32, apiKey: Int16, apiVersion: Int16, request: FrameRecord,
        response: FrameRecord?, missingResponse: MissingResponse?, responseOutOfOrder: Bool, sequence: Int
    ) {
        self.connectionId = connectionId
        self.correlationId = correlationId
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.request = request
        self.response = response
        self.missingResponse = missingResponse
        self.responseOutOfOrder = responseOutOfOrder
        self.sequence = sequence
    }

    /// Wall-clock time the request was captured, ns since the Unix epoch.
    public var requestTimeNs: Int64 { request.time.wallNs }

    /// Monotonic nanoseconds from request to response, as the proxy saw them; nil without a response.
    public var latencyNs: Int64? {
        response.map { Int64(bitPattern: $0.time.monotonicNs &- request.time.monotonicNs) }
    }

    /// The API's name (`Produce`, `Fetch`), when the codec knows the key.
    public var apiName: String? { KafkaAPIs.descriptor(apiKey: apiKey)?.name }

    /// Why an exchange has no response.
    public enum MissingResponse: Hashable, Sendable, CustomStringConvertible {
        /// A Produce request with acks=0: brokers never answer those.
        case notExpected
        /// The connection closed with the request outstanding.
        case connectionClosed
        /// The capture ended (or `finish()` was called) with the request outstanding.
        case captureEnded

        /// One line, for people.
        public var description: String {
            switch self {
            case .notExpected: return "no response expected (acks=0)"
            case .connectionClosed: return "connection closed before the response"
            case .captureEnded: return "capture ended before the response"
            }
        }
    }
}

/// A response that could not be paired.
public struct UnmatchedResponse: Hashable, Sendable {
    /// Why the response could not be paired.
    public enum Reason: Hashable, Sendable {
        /// No outstanding request on the connection has this correlation id.
        case unknownCorrelationId
        /// Shorter than the 4-byte correlation id.
        case tooShort
    }

    /// The connection it arrived on.
    public var connectionId: UInt64
    /// The correlation id read from the response, when it had one.
    public var correlationId: Int32?
    /// The response frame.
    public var response: FrameRecord
    /// Why it could not be paired.
    public var reason: Reason

    /// An unmatched response.
    public init(connectionId: UInt64, correlationId: Int32?, response: FrameRecord, reason: Reason) {
        self.connectionId = connectionId
        self.correlationId = correlationId
        self.response = response
        self.reason = reason
    }
}

/// What `ExchangeTracker` produces.
public enum ExchangeEvent: Hashable, Sendable {
    /// A request with its response, or with the reason it has none.
    case exchange(Exchange)
    /// A response no outstanding request matches.
    case unmatchedResponse(UnmatchedResponse)
    /// A request frame shorter than the 8 bytes of api key, version and correlation id (e.g. a
    /// redaction that did not keep the header).
    case unparsableRequest(FrameRecord)
}

extension ExchangeEvent {
    /// One line for a capture reader's warnings when the event is not an exchange: a response that
    /// matches no request, a request frame without a header; nil for an exchange.
    public var warning: String? {
        switch self {
        case .exchange:
            return nil
        case .unmatchedResponse(let u):
            return "connection \(u.connectionId): response \(u.correlationId.map(String.init) ?? "?") matches no request"
        case .unparsableRequest(let f):
            return "connection \(f.connectionId): request frame of \(f.payload.readableBytes) bytes has no header"
        }
    }
}
