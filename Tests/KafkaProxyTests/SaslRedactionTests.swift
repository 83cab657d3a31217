import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// Credentials never reach the capture: the raw tokens of the legacy SASL flow (after SaslHandshake v0)
/// and the salted passwords of AlterUserScramCredentials, and secret config values.
@Suite(.serialized) struct SaslRedactionTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func frame(_ payload: ByteBuffer) -> [UInt8] {
        var out: [UInt8] = withUnsafeBytes(of: Int32(payload.readableBytes).bigEndian) { Array($0) }
        out += payload.readableBytesView
        return out
    }

    static func response(_ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32) -> [UInt8] {
        var header = ResponseHeader()
        header.correlationId = correlationId
        return frame(KafkaFrameCodec.encodeResponse(header: header, body: body, apiKey: apiKey, apiVersion: version))
    }

    /// A broker speaking the legacy flow by hand: handshake v0, then one raw token each way per round.
    func legacyExchange(mechanism: String, clientTokens: [String], brokerTokens: [String], keep: Bool) async throws -> MemoryCaptureSink {
        let broker = try RawKafkaListener()
        let sink = MemoryCaptureSink()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(
                listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: broker.port),
                keepCredentials: keep, connectTimeoutMs: 2000),
            capture: sink, group: group)
        try await proxy.start()
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        let upstream = try broker.accept()

        var handshake = SaslHandshakeRequest()
        handshake.mechanism = mechanism
        try client.send(request: handshake, apiKey: 17, version: 0, correlationId: 1)
        #expect(try upstream.readFrame() != nil)
        var accepted = SaslHandshakeResponse()
        accepted.mechanisms = [mechanism]
        try upstream.sendRaw(Self.response(accepted, apiKey: 17, version: 0, correlationId: 1))
        #expect(try client.readFrame() != nil)
        for (c, b) in zip(clientTokens, brokerTokens) {
            try client.sendRaw(Self.frame(ByteBuffer(string: c)))
            // Forwarded untouched.
            #expect(try upstream.readFrame() == ByteBuffer(string: c))
            try upstream.sendRaw(Self.frame(ByteBuffer(string: b)))
            #expect(try client.readFrame() == ByteBuffer(string: b))
        }
        // Authenticated: Kafka framing again, requests and responses paired as usual.
        try client.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 2)
        #expect(try upstream.readFrame().flatMap { KafkaRequestPrefix(payload: $0)?.apiKey } == 18)
        try upstream.sendRaw(Self.response(ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 2))
        #expect(try client.readFrame().flatMap(KafkaFrameCodec.responseCorrelationId) == 2)
        #expect(await sink.waitUntil { $0.frames.count == 4 })
        await proxy.stop()
        return sink
    }

    @Test(arguments: [false, true])
    func plainLegacyTokensAreForwardedButNeverRecorded(keep: Bool) async throws {
        let sink = try await legacyExchange(mechanism: "PLAIN", clientTokens: ["\u{0}alice\u{0}s3cr3t-password"], brokerTokens: [""], keep: keep)
        // Only Kafka frames are frames: the handshake and ApiVersions, each way.
        #expect(sink.frames.map(\.direction) == [.request, .response, .request, .response])
        for f in sink.frames { #expect(!String(buffer: f.payload).contains("s3cr3t")) }
        let tokens = sink.events.filter { $0.kind == .redaction }
        #expect(tokens.count == 2)
        #expect(tokens.map { $0.attributes.first { $0.key == "side" }?.value } == ["client", "broker"])
        if keep {
            #expect(tokens.first?.payload == ByteBuffer(string: "\u{0}alice\u{0}s3cr3t-password"))
        } else {
            #expect(tokens.allSatisfy { $0.payload == nil })
        }
        #expect(!sink.events.contains { $0.kind == "unmatched-response" || $0.kind == .malformedFrame })
    }

    @Test func scramLegacyTokensTwoRoundTrips() async throws {
        let sink = try await legacyExchange(
            mechanism: "SCRAM-SHA-256", clientTokens: ["n,,n=alice,r=abc", "c=biws,r=abcdef,p=PROOF-SECRET"],
            brokerTokens: ["r=abcdef,s=c2FsdA==,i=4096", "v=SIGNATURE"], keep: false)
        #expect(sink.events.filter { $0.kind == .redaction }.count == 4)
        #expect(sink.events.allSatisfy { $0.payload.map { !String(buffer: $0).contains("PROOF") } ?? true })
        #expect(sink.frames.count == 4)
    }

    @Test func alterUserScramCredentialsSaltsAndPasswordsAreRedacted() throws {
        var r = AlterUserScramCredentialsRequest()
        var u = AlterUserScramCredentialsRequest.ScramCredentialUpsertion()
        u.name = "alice"
        u.mechanism = 1
        u.iterations = 8192
        u.salt = ByteBuffer(string: "SALT-BYTES")
        u.saltedPassword = ByteBuffer(string: "SALTED-PASSWORD")
        r.upsertions = [u]
        var header = RequestHeader()
        header.requestApiKey = 51
        header.requestApiVersion = 0
        header.correlationId = 1
        let payload = KafkaFrameCodec.encodeRequest(header: header, body: r)
        #expect(CredentialRedactor.needsRedaction(apiKey: 51, direction: true))
        let redacted = CredentialRedactor.redactRequest(payload)
        let decoded = try #require(try KafkaFrameCodec.decodeRequest(redacted).body as? AlterUserScramCredentialsRequest)
        #expect(decoded.upsertions.first?.name == "alice")
        #expect(decoded.upsertions.first?.iterations == 8192)
        #expect(decoded.upsertions.first?.salt == CredentialRedactor.marker)
        #expect(decoded.upsertions.first?.saltedPassword == CredentialRedactor.marker)
        #expect(!String(buffer: redacted).contains("SALTED"))
    }

    @Test func secretConfigValuesAreRedactedOthersKept() throws {
        var r = IncrementalAlterConfigsRequest()
        var res = IncrementalAlterConfigsRequest.AlterConfigsResource()
        res.resourceType = 4
        res.resourceName = "1"
        for (name, value) in [
            ("listener.name.sasl_plaintext.plain.sasl.jaas.config", "PlainLoginModule required password=\"hunter2\";"),
            ("ssl.keystore.password", "hunter2"), ("log.retention.ms", "1000"),
        ] {
            var c = IncrementalAlterConfigsRequest.AlterableConfig()
            c.name = name
            c.value = value
            res.configs.append(c)
        }
        r.resources = [res]
        var header = RequestHeader()
        header.requestApiKey = 44
        header.requestApiVersion = 1
        header.correlationId = 1
        let payload = KafkaFrameCodec.encodeRequest(header: header, body: r)
        let redacted = CredentialRedactor.redactRequest(payload)
        let decoded = try #require(try KafkaFrameCodec.decodeRequest(redacted).body as? IncrementalAlterConfigsRequest)
        #expect(decoded.resources.first?.configs.map(\.value) == [CredentialRedactor.markerString, CredentialRedactor.markerString, "1000"])
        #expect(!String(buffer: redacted).contains("hunter2"))
        // Nothing secret: the very same bytes, so the frame is not flagged as redacted.
        var plain = r
        plain.resources[0].configs = [res.configs[2]]
        let plainPayload = KafkaFrameCodec.encodeRequest(header: header, body: plain)
        #expect(CredentialRedactor.redactRequest(plainPayload) == plainPayload)
    }
}
