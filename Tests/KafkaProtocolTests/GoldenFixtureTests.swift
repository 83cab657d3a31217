import NIOCore
import Testing

@testable import KafkaProtocol

/// Frames recorded from kafka-python and librdkafka against Tansu: every one decodes and re-encodes
/// to identical bytes.
@Suite struct GoldenFixtureTests {
    @Test func fixturesArePresent() {
        #expect(Fixtures.sessionNames.count >= 9)
    }

    @Test(arguments: Fixtures.sessionNames)
    func everyFrameDecodesAndReencodesByteExact(session: String) throws {
        let exchanges = try Fixtures.exchanges(session)
        #expect(!exchanges.isEmpty)
        var requests = 0
        var responses = 0
        for (request, response) in exchanges {
            let decoded = try KafkaFrameCodec.decodeRequest(request.payload)
            let reencoded = KafkaFrameCodec.encodeRequest(header: decoded.header, body: decoded.body)
            #expect(reencoded == request.payload, "\(session): \(decoded.api.name) v\(decoded.apiVersion) request differs after re-encoding")
            requests += 1
            guard let response else { continue }
            let r = try KafkaFrameCodec.decodeResponse(
                response.payload, apiKey: decoded.header.requestApiKey, apiVersion: decoded.apiVersion)
            #expect(r.header.correlationId == decoded.header.correlationId)
            let re = KafkaFrameCodec.encodeResponse(
                header: r.header, body: r.body, apiKey: decoded.header.requestApiKey, apiVersion: decoded.apiVersion)
            #expect(re == response.payload, "\(session): \(decoded.api.name) v\(decoded.apiVersion) response differs after re-encoding")
            responses += 1
        }
        #expect(requests > 0 && responses > 0)
    }

    @Test func apiVersionsResponseUsesHeaderV0EvenWhenFlexible() throws {
        // librdkafka sends ApiVersions v3 (flexible); the response header still has no tagged fields.
        let exchanges = try Fixtures.exchanges("librdkafka-none")
        let av = try #require(exchanges.first { KafkaRequestPrefix(payload: $0.request.payload)?.apiKey == 18 })
        let req = try KafkaFrameCodec.decodeRequest(av.request.payload)
        #expect(req.apiVersion >= 3)
        #expect(req.headerVersion == 2)
        let resp = try KafkaFrameCodec.decodeResponse(try #require(av.response).payload, apiKey: 18, apiVersion: req.apiVersion)
        #expect(resp.headerVersion == 0)
        let body = try #require(resp.body as? ApiVersionsResponse)
        #expect(body.errorCode == 0)
        #expect(body.apiKeys.contains { $0.apiKey == 0 })
    }

    @Test func metadataResponseDecodesToBrokers() throws {
        let exchanges = try Fixtures.exchanges("kafka-python-produce-consume")
        let md = try #require(exchanges.first { KafkaRequestPrefix(payload: $0.request.payload)?.apiKey == 3 && $0.response != nil })
        let req = try KafkaFrameCodec.decodeRequest(md.request.payload)
        let resp = try KafkaFrameCodec.decodeResponse(try #require(md.response).payload, apiKey: 3, apiVersion: req.apiVersion)
        let body = try #require(resp.body as? MetadataResponse)
        #expect(!body.brokers.isEmpty)
        #expect(body.brokers.allSatisfy { $0.host == "127.0.0.1" && $0.port > 0 })
    }

    @Test func jsonRenderingIsDeterministicAndUsesSpecNames() throws {
        let exchanges = try Fixtures.exchanges("librdkafka-none")
        let produce = try #require(exchanges.first { KafkaRequestPrefix(payload: $0.request.payload)?.apiKey == 0 })
        let req = try KafkaFrameCodec.decodeRequest(produce.request.payload)
        let json1 = KafkaJSON.render(req.body.kafkaValue(version: req.apiVersion))
        let json2 = KafkaJSON.render(try KafkaFrameCodec.decodeRequest(produce.request.payload).body.kafkaValue(version: req.apiVersion))
        #expect(json1 == json2)
        #expect(json1.hasPrefix("{\"TransactionalId\":"))
        #expect(json1.contains("\"TopicData\":[{\"Name\":"))
        #expect(json1.contains("\"PartitionData\":[{\"Index\":0,\"Records\":"))
    }
}
