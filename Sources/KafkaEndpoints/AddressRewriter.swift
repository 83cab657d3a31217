import KafkaProtocol
import NIOCore

/// Finds and rewrites broker addresses in responses, through the generated `KafkaEndpointCarrier`
/// conformances (Metadata, FindCoordinator, DescribeCluster, and the NodeEndpoints leader hints of
/// Produce v10+, Fetch v16+, ShareFetch and ShareAcknowledge).
public enum AddressRewriter {
    /// One broker address replaced in a response: which node, what the broker said, what the client now sees.
    public struct Change: Hashable, Sendable {
        /// The node id the endpoint belongs to (Metadata's NodeId, FindCoordinator's NodeId, ...).
        public var nodeId: Int32
        /// The address the broker advertised, `HOST:PORT`.
        public var from: String
        /// The proxy listener's address written in its place, `HOST:PORT`.
        public var to: String
    }

    /// Cheap pre-check on the hot path: only these responses are decoded at all. The list comes from
    /// the generator (`KafkaAPIs.responseMayCarryEndpoints`), shared with `check`'s I17.
    public static func mayCarryEndpoints(apiKey: Int16, apiVersion: Int16) -> Bool {
        KafkaAPIs.responseMayCarryEndpoints(apiKey: apiKey, apiVersion: apiVersion)
    }

    /// Real broker endpoints in a decoded response, one per node id (FindCoordinator's "not found"
    /// answer, node -1 with an empty host, is not one).
    public static func endpoints(in response: KafkaDecodedResponse) -> [KafkaEndpoint] {
        guard var carrier = response.body as? any KafkaEndpointCarrier else { return [] }
        var seen: Set<Int32> = []
        var result: [KafkaEndpoint] = []
        carrier.rewriteEndpoints(version: response.apiVersion) { e in
            if isReal(e) && seen.insert(e.nodeId).inserted { result.append(e) }
        }
        return result
    }

    static func isReal(_ e: KafkaEndpoint) -> Bool {
        e.nodeId >= 0 && !e.host.isEmpty && e.port > 0
    }

    /// The response re-encoded with every real endpoint pointing at `advertiseHost` and its node's
    /// proxy port; nodes missing from `ports` are left as they were (and reported by the caller).
    public static func rewrite(
        _ response: KafkaDecodedResponse, advertiseHost: String, ports: [Int32: Int]
    ) -> (ByteBuffer, [Change]) {
        guard var carrier = response.body as? any KafkaEndpointCarrier else {
            return (
                KafkaFrameCodec.encodeResponse(
                    header: response.header, body: response.body, apiKey: response.api.apiKey, apiVersion: response.apiVersion), []
            )
        }
        var changes: [Change] = []
        carrier.rewriteEndpoints(version: response.apiVersion) { e in
            guard isReal(e), let port = ports[e.nodeId] else { return }
            let from = "\(e.host):\(e.port)"
            e.host = advertiseHost
            e.port = Int32(port)
            changes.append(Change(nodeId: e.nodeId, from: from, to: "\(advertiseHost):\(port)"))
        }
        let body = (carrier as? any KafkaMessage) ?? response.body
        let payload = KafkaFrameCodec.encodeResponse(
            header: response.header, body: body, apiKey: response.api.apiKey, apiVersion: response.apiVersion)
        return (payload, changes)
    }
}
