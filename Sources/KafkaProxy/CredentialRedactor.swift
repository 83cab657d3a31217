import KafkaProtocol
import NIOCore

/// Replaces credential-bearing fields (SASL auth bytes, delegation-token HMACs) with a marker before a
/// frame reaches the capture. The frame still decodes; the marker says what was there.
public enum CredentialRedactor {
    public static let marker = ByteBuffer(string: "KAFKATAPE-REDACTED")

    /// APIs whose requests carry credentials: SaslAuthenticate, RenewDelegationToken, ExpireDelegationToken.
    static let requestKeys: Set<Int16> = [36, 39, 40]
    /// APIs whose responses carry credentials: SaslAuthenticate, CreateDelegationToken, DescribeDelegationToken.
    static let responseKeys: Set<Int16> = [36, 38, 41]

    public static func needsRedaction(apiKey: Int16, direction isRequest: Bool) -> Bool {
        isRequest ? requestKeys.contains(apiKey) : responseKeys.contains(apiKey)
    }

    /// The redacted request payload. When the frame does not decode, only its 8-byte prefix is kept.
    public static func redactRequest(_ payload: ByteBuffer) -> ByteBuffer {
        guard let decoded = try? KafkaFrameCodec.decodeRequest(payload) else { return prefixOnly(payload, 8) }
        var body = decoded.body
        switch body {
        case var m as SaslAuthenticateRequest:
            m.authBytes = marker
            body = m
        case var m as RenewDelegationTokenRequest:
            m.hmac = marker
            body = m
        case var m as ExpireDelegationTokenRequest:
            m.hmac = marker
            body = m
        default:
            return payload
        }
        return KafkaFrameCodec.encodeRequest(header: decoded.header, body: body)
    }

    public static func redactResponse(_ payload: ByteBuffer, apiKey: Int16, apiVersion: Int16) -> ByteBuffer {
        guard let decoded = try? KafkaFrameCodec.decodeResponse(payload, apiKey: apiKey, apiVersion: apiVersion) else {
            return prefixOnly(payload, 4)
        }
        var body = decoded.body
        switch body {
        case var m as SaslAuthenticateResponse:
            m.authBytes = marker
            body = m
        case var m as CreateDelegationTokenResponse:
            m.hmac = marker
            body = m
        case var m as DescribeDelegationTokenResponse:
            for i in m.tokens.indices { m.tokens[i].hmac = marker }
            body = m
        default:
            return payload
        }
        return KafkaFrameCodec.encodeResponse(header: decoded.header, body: body, apiKey: apiKey, apiVersion: apiVersion)
    }

    static func prefixOnly(_ payload: ByteBuffer, _ n: Int) -> ByteBuffer {
        payload.getSlice(at: payload.readerIndex, length: min(n, payload.readableBytes)) ?? ByteBuffer()
    }
}
