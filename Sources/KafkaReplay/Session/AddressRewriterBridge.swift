import KafkaCapture
import KafkaEndpoints
import KafkaProtocol

/// Broker endpoints in recorded responses, through the proxy's generated-carrier rewriter.
enum AddressRewriterBridge {
    static func mayCarryEndpoints(_ e: Exchange) -> Bool {
        AddressRewriter.mayCarryEndpoints(apiKey: e.apiKey, apiVersion: e.apiVersion)
    }

    static func endpoints(_ e: Exchange) -> [KafkaEndpoint] {
        guard let frame = e.response,
            let decoded = try? KafkaFrameCodec.decodeResponse(frame.payload, apiKey: e.apiKey, apiVersion: e.apiVersion)
        else { return [] }
        return AddressRewriter.endpoints(in: decoded)
    }
}
