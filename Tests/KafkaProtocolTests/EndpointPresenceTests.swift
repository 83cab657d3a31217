import NIOCore
import Testing

@testable import KafkaProtocol

/// `KafkaAPIs.responseEndpointsPresent` (generated skipping, no decoding) against what decoding finds:
/// for every version of every response, random instances and real clients' frames.
@Suite struct EndpointPresenceTests {
    static let instancesPerVersion = 200

    /// Versions the skipping must answer for: those whose endpoints are only in top-level tagged fields.
    static func mustAnswer(apiKey: Int16, version: Int16) -> Bool {
        (apiKey == 0 && version >= 10) || (apiKey == 1 && version >= 16)
    }

    @Test func skippingAgreesWithDecodingAtEveryVersion() throws {
        var answered = 0
        for m in allArbitraryMessages where m.kind == .response {
            answered += try Self.check(m)
        }
        // Produce v10-13 and Fetch v16-18.
        #expect(answered == (4 + 3) * Self.instancesPerVersion)
    }

    static func check<M: ArbitraryKafkaMessage>(_ t: M.Type) throws -> Int {
        var answered = 0
        var present = 0
        for version in M.versions {
            var rng = SeededRandom(seed: UInt64(bitPattern: Int64(M.schemaName.hashValueStable &* 17 &+ Int(version))))
            for i in 0..<instancesPerVersion {
                let value = M.arbitrary(version: version, rng: &rng, depth: 0)
                let body = value.encoded(version: version)
                let answer = KafkaAPIs.responseEndpointsPresent(apiKey: M.apiKey, apiVersion: version, body: body)
                guard mustAnswer(apiKey: M.apiKey, version: version) else {
                    #expect(answer == nil, "\(M.schemaName) v\(version): answered without being a tagged-only version")
                    continue
                }
                var expected = false
                if var carrier = value as? any KafkaEndpointCarrier {
                    carrier.rewriteEndpoints(version: version) { _ in expected = true }
                }
                #expect(answer == expected, "\(M.schemaName) v\(version) #\(i): \(String(describing: answer)), decoding finds \(expected)")
                answered += 1
                if expected { present += 1 }
            }
        }
        if answered > 0 {
            // Both shapes were exercised: with endpoints and without.
            #expect(present > 0 && present < answered, "\(M.schemaName): \(present) of \(answered) with endpoints")
        }
        return answered
    }

    /// A cut or padded body is not answered for (nil: decode it, and report it), never a wrong "no".
    @Test func truncatedAndPaddedBodiesGetNoAnswer() throws {
        var response = ProduceResponse()
        var topic = ProduceResponse.TopicProduceResponse()
        topic.name = "orders"
        var partition = ProduceResponse.PartitionProduceResponse()
        partition.index = 0
        partition.errorCode = 6  // NOT_LEADER_OR_FOLLOWER
        topic.partitionResponses = [partition]
        response.responses = [topic]
        var endpoint = ProduceResponse.NodeEndpoint()
        endpoint.nodeId = 2
        endpoint.host = "broker-2.internal"
        endpoint.port = 9092
        response.nodeEndpoints = [endpoint]
        for version: Int16 in 10...13 {
            let body = response.encoded(version: version)
            #expect(KafkaAPIs.responseEndpointsPresent(apiKey: 0, apiVersion: version, body: body) == true)
            var without = response
            without.nodeEndpoints = nil
            #expect(KafkaAPIs.responseEndpointsPresent(apiKey: 0, apiVersion: version, body: without.encoded(version: version)) == false)
            for cut in 0..<body.readableBytes {
                #expect(KafkaAPIs.responseEndpointsPresent(apiKey: 0, apiVersion: version, body: body.getSlice(at: body.readerIndex, length: cut)!) == nil, "v\(version) cut at \(cut)")
            }
            var padded = body
            padded.writeInteger(UInt8(0))
            #expect(KafkaAPIs.responseEndpointsPresent(apiKey: 0, apiVersion: version, body: padded) == nil)
        }
        // Versions before the tagged field: decode those.
        #expect(KafkaAPIs.responseEndpointsPresent(apiKey: 0, apiVersion: 9, body: response.encoded(version: 9)) == nil)
        #expect(KafkaAPIs.responseEndpointsPresent(apiKey: 3, apiVersion: 12, body: MetadataResponse().encoded(version: 12)) == nil)
    }

    /// Every Produce and Fetch response of the golden sessions (librdkafka and kafka-python against a
    /// real broker), as whole frames: where the skipping answers, it agrees with decoding, and
    /// librdkafka's Produce v10+ and Fetch v16+ responses are answered for (none holds endpoints).
    @Test func realClientsResponsesAgreeWithDecoding() throws {
        var answered = 0
        for session in Fixtures.sessionNames {
            for (request, response) in try Fixtures.exchanges(session) {
                guard let response, let prefix = KafkaRequestPrefix(payload: request.payload) else { continue }
                let answer = KafkaFrameCodec.responseEndpointsPresent(response.payload, apiKey: prefix.apiKey, apiVersion: prefix.apiVersion)
                #expect((answer != nil) == Self.mustAnswer(apiKey: prefix.apiKey, version: prefix.apiVersion), "\(session): \(prefix.apiKey) v\(prefix.apiVersion)")
                guard let answer else { continue }
                let decoded = try KafkaFrameCodec.decodeResponse(response.payload, apiKey: prefix.apiKey, apiVersion: prefix.apiVersion)
                var expected = false
                if var carrier = decoded.body as? any KafkaEndpointCarrier {
                    carrier.rewriteEndpoints(version: prefix.apiVersion) { _ in expected = true }
                }
                #expect(answer == expected, "\(session): \(prefix.apiKey) v\(prefix.apiVersion)")
                answered += 1
            }
        }
        #expect(answered > 0, "no Produce v10+ or Fetch v16+ response in the golden sessions")
    }
}
