import NIOCore

/// The fixed start of every request header version: enough to route and pair a frame without
/// decoding it, for any API key, known or not.
public struct KafkaRequestPrefix: Hashable, Sendable {
    /// The request's API key (Kafka's `request_api_key`).
    public var apiKey: Int16
    /// The request's version; the response uses the same.
    public var apiVersion: Int16
    /// The id the response will repeat.
    public var correlationId: Int32

    /// Reads the prefix of a request payload (the frame without its size), or nil when it is shorter than 8 bytes.
    @inlinable
    public init?(payload: ByteBuffer) {
        let i = payload.readerIndex
        guard let k = payload.getInteger(at: i, endianness: .big, as: Int16.self),
            let v = payload.getInteger(at: i + 2, endianness: .big, as: Int16.self),
            let c = payload.getInteger(at: i + 4, endianness: .big, as: Int32.self)
        else { return nil }
        apiKey = k
        apiVersion = v
        correlationId = c
    }

    /// A prefix from its three fields (for tests and synthetic frames).
    public init(apiKey: Int16, apiVersion: Int16, correlationId: Int32) {
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.correlationId = correlationId
    }
}

/// A request frame decoded: header, header version, and the typed body.
public struct KafkaDecodedRequest: Sendable {
    /// The request header (client id included from header v1, tagged fields from v2).
    public var header: RequestHeader
    /// Which request header version the (API key, version) pair uses: 1, or 2 from the API's first flexible version (KIP-482); 0 for ControlledShutdown v0.
    public var headerVersion: Int16
    /// The API as this codec knows it (name, versions, request and response types).
    public var api: KafkaAPIDescriptor
    /// The typed request body (`ProduceRequest`, `FetchRequest`, ...).
    public var body: any KafkaMessage

    /// The request's version, from its header.
    public var apiVersion: Int16 { header.requestApiVersion }
}

/// A response frame decoded: header, header version, and the typed body.
public struct KafkaDecodedResponse: Sendable {
    /// The response header (the correlation id, and tagged fields from header v1).
    public var header: ResponseHeader
    /// Which response header version the (API key, version) pair uses: 1 from the API's first flexible version, else 0; ApiVersions always uses 0 (KIP-511).
    public var headerVersion: Int16
    /// The API the response belongs to (responses do not say; the request's key was given).
    public var api: KafkaAPIDescriptor
    /// The version it was decoded at: the request's.
    public var apiVersion: Int16
    /// The typed response body.
    public var body: any KafkaMessage
}

/// Whole-frame decoding and encoding: header version chosen by the (key, version) rule, body by its
/// generated type, every byte accounted for.
public enum KafkaFrameCodec {
    /// The response's correlation id (the first four bytes of any response header).
    @inlinable
    public static func responseCorrelationId(_ payload: ByteBuffer) -> Int32? {
        payload.getInteger(at: payload.readerIndex, endianness: .big, as: Int32.self)
    }

    /// Decodes a request payload (the frame without its size): the prefix picks the API, version and
    /// header version, the body must use every byte. Unknown API keys and versions are errors here; the
    /// proxy forwards such frames without decoding them.
    public static func decodeRequest(_ payload: ByteBuffer) throws(KafkaDecodingError) -> KafkaDecodedRequest {
        guard let prefix = KafkaRequestPrefix(payload: payload) else {
            throw KafkaDecodingError(.truncated(needed: 8, available: payload.readableBytes), offset: 0).at("RequestHeader")
        }
        guard let api = KafkaAPIs.descriptor(apiKey: prefix.apiKey) else {
            var e = KafkaDecodingError(.unknownApiKey(prefix.apiKey), offset: 0)
            e.apiKey = prefix.apiKey
            e.apiVersion = prefix.apiVersion
            throw e
        }
        guard api.versions.contains(prefix.apiVersion) else {
            var e = KafkaDecodingError(.unsupportedVersion(apiKey: prefix.apiKey, version: prefix.apiVersion), offset: 2)
            e.apiKey = prefix.apiKey
            e.apiVersion = prefix.apiVersion
            e.apiName = api.request.schemaName
            throw e
        }
        let headerVersion = api.requestHeaderVersion(prefix.apiVersion)
        var reader = KafkaReader(payload)
        let header: RequestHeader
        do {
            header = try RequestHeader(from: &reader, version: headerVersion)
        } catch {
            var e = error.at("RequestHeader")
            e.apiKey = prefix.apiKey
            e.apiVersion = prefix.apiVersion
            e.apiName = api.request.schemaName
            throw e
        }
        let bodyOffset = reader.offset
        do {
            let body = try api.request.decode(reader.buffer, version: prefix.apiVersion)
            return KafkaDecodedRequest(header: header, headerVersion: headerVersion, api: api, body: body)
        } catch {
            var e = error
            e.offset += bodyOffset
            throw e
        }
    }

    /// Decodes a response payload for the request it answers (`apiKey`, `apiVersion`, which the response
    /// does not carry; `CorrelationTracker` remembers them).
    public static func decodeResponse(
        _ payload: ByteBuffer, apiKey: Int16, apiVersion: Int16
    ) throws(KafkaDecodingError) -> KafkaDecodedResponse {
        guard let api = KafkaAPIs.descriptor(apiKey: apiKey) else {
            var e = KafkaDecodingError(.unknownApiKey(apiKey), offset: 0)
            e.apiKey = apiKey
            e.apiVersion = apiVersion
            throw e
        }
        guard api.versions.contains(apiVersion) else {
            var e = KafkaDecodingError(.unsupportedVersion(apiKey: apiKey, version: apiVersion), offset: 0)
            e.apiKey = apiKey
            e.apiVersion = apiVersion
            e.apiName = api.response.schemaName
            throw e
        }
        let headerVersion = api.responseHeaderVersion(apiVersion)
        var reader = KafkaReader(payload)
        let header: ResponseHeader
        do {
            header = try ResponseHeader(from: &reader, version: headerVersion)
        } catch {
            var e = error.at("ResponseHeader")
            e.apiKey = apiKey
            e.apiVersion = apiVersion
            e.apiName = api.response.schemaName
            throw e
        }
        let bodyOffset = reader.offset
        do {
            let body = try api.response.decode(reader.buffer, version: apiVersion)
            return KafkaDecodedResponse(header: header, headerVersion: headerVersion, api: api, apiVersion: apiVersion, body: body)
        } catch {
            var e = error
            e.offset += bodyOffset
            throw e
        }
    }

    /// Whether a response frame (header and body, no size prefix) holds broker endpoints, found without
    /// decoding it (`KafkaAPIs.responseEndpointsPresent`): for the versions whose endpoints live only in
    /// top-level tagged fields, Produce v10+ and Fetch v16+. nil when that cannot tell (decode to find out).
    public static func responseEndpointsPresent(_ payload: ByteBuffer, apiKey: Int16, apiVersion: Int16) -> Bool? {
        guard let api = KafkaAPIs.descriptor(apiKey: apiKey), api.versions.contains(apiVersion) else { return nil }
        var reader = KafkaReader(payload)
        guard (try? ResponseHeader(from: &reader, version: api.responseHeaderVersion(apiVersion))) != nil else { return nil }
        return KafkaAPIs.responseEndpointsPresent(apiKey: apiKey, apiVersion: apiVersion, body: reader.buffer)
    }

    /// Encodes a request payload (no size prefix) with the header version its (key, version) uses.
    public static func encodeRequest(header: RequestHeader, body: any KafkaMessage) -> ByteBuffer {
        var w = KafkaWriter()
        let hv = KafkaAPIs.descriptor(apiKey: header.requestApiKey)?.requestHeaderVersion(header.requestApiVersion) ?? 1
        header.encode(to: &w, version: hv)
        body.encode(to: &w, version: header.requestApiVersion)
        return w.buffer
    }

    /// Encodes a response payload (no size prefix).
    public static func encodeResponse(
        header: ResponseHeader, body: any KafkaMessage, apiKey: Int16, apiVersion: Int16
    ) -> ByteBuffer {
        var w = KafkaWriter()
        let hv = KafkaAPIs.descriptor(apiKey: apiKey)?.responseHeaderVersion(apiVersion) ?? 0
        header.encode(to: &w, version: hv)
        body.encode(to: &w, version: apiVersion)
        return w.buffer
    }
}
