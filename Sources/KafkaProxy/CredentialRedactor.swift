import KafkaProtocol
import NIOCore

/// Replaces credential-bearing fields (SASL auth bytes, delegation-token HMACs, SCRAM salted
/// passwords, secret config values) with a marker before a frame reaches the capture. The frame still
/// decodes; the marker says what was there. (The raw tokens of the legacy SASL flow are not Kafka
/// frames at all: `ProxyConnection` records them as redaction events, without their bytes.)
///
/// DescribeUserScramCredentials is not here on purpose: its response carries only mechanisms and
/// iteration counts, never a salt or a password.
public enum CredentialRedactor {
    /// What replaces a credential's bytes in the capture: readable in `dump`, and still the right type for the field.
    public static let marker = ByteBuffer(string: "KAFKATAPE-REDACTED")
    /// The marker as a config value (AlterConfigs values are strings).
    public static let markerString = "KAFKATAPE-REDACTED"

    /// APIs whose requests carry credentials: AlterConfigs, SaslAuthenticate, RenewDelegationToken,
    /// ExpireDelegationToken, IncrementalAlterConfigs (secret config values, e.g. a listener's
    /// `sasl.jaas.config` or `ssl.keystore.password` set dynamically), AlterUserScramCredentials
    /// (salts and salted passwords: enough to attempt an offline dictionary attack).
    static let requestKeys: Set<Int16> = [33, 36, 39, 40, 44, 51]
    /// APIs whose responses carry credentials: SaslAuthenticate, CreateDelegationToken, DescribeDelegationToken.
    static let responseKeys: Set<Int16> = [36, 38, 41]

    /// Whether frames of `apiKey` in this direction can carry credentials (`requestKeys`, `responseKeys`); every
    /// other frame goes to the capture as received.
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
        case var m as AlterUserScramCredentialsRequest:
            guard !m.upsertions.isEmpty else { return payload }
            for i in m.upsertions.indices {
                m.upsertions[i].salt = marker
                m.upsertions[i].saltedPassword = marker
            }
            body = m
        case is AlterConfigsRequest, is IncrementalAlterConfigsRequest:
            var m = decoded.body
            guard redactSecretConfigs(&m, version: decoded.apiVersion) else { return payload }
            body = m
        default:
            return payload
        }
        return KafkaFrameCodec.encodeRequest(header: decoded.header, body: body)
    }

    /// Config names whose values are secrets: Kafka's PASSWORD-typed configs (`*.password`,
    /// `sasl.jaas.config`, `ssl.keystore.key`, ...) and anything named like a secret or credential,
    /// including per-listener variants (`listener.name.X.sasl.jaas.config`).
    /// Sets the value of every `Resources[].Configs[]` entry with a secret-looking name to the marker,
    /// through the generated field accessor (AlterConfigs and IncrementalAlterConfigs share that
    /// shape); false when there was nothing to redact.
    static func redactSecretConfigs(_ body: inout any KafkaMessage, version: Int16) -> Bool {
        guard let resources = body.kafkaValue(version: version)["Resources"]?.arrayValue else { return false }
        var changed = false
        for (r, resource) in resources.enumerated() {
            for (c, config) in (resource["Configs"]?.arrayValue ?? []).enumerated() {
                guard let name = config["Name"]?.stringValue, isSecretConfig(name), let value = config["Value"], value != .null
                else { continue }
                let path: [KafkaFieldStep] = [.field("Resources"), .index(r), .field("Configs"), .index(c), .field("Value")]
                if body.setField(path[...], to: .string(markerString), version: version) { changed = true }
            }
        }
        return changed
    }

    /// Whether a config named `name` holds a secret (passwords, JAAS configs, keys, tokens), judged by its
    /// name as Kafka's own `Password` configs are named; its value is redacted.
    public static func isSecretConfig(_ name: String) -> Bool {
        let n = name.lowercased()
        return ["password", "secret", "jaas.config", "keystore.key", "credential", "private.key", "token"].contains { n.contains($0) }
    }

    /// The redacted response payload (SASL tokens, delegation token HMACs). When the frame does not decode,
    /// only its 4-byte correlation id is kept.
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
