/// A broker address inside a response (Metadata brokers, FindCoordinator coordinators,
/// DescribeCluster brokers, the NodeEndpoints that Produce/Fetch v10+/v16+ carry as leader hints).
public struct KafkaEndpoint: Hashable, Sendable {
    /// The broker's node id, which clients key their connections by.
    public var nodeId: Int32
    /// The advertised host.
    public var host: String
    /// The advertised port.
    public var port: Int32

    /// An endpoint from its parts.
    public init(nodeId: Int32, host: String, port: Int32) {
        self.nodeId = nodeId
        self.host = host
        self.port = port
    }
}

/// A message (or struct) that carries broker endpoints somewhere inside it. The generator adds this
/// conformance to every schema struct with `Host`, `Port` and a node id (`NodeId`/`BrokerId`), and to
/// every struct that contains one, so a proxy can rewrite every address with one mechanism instead of
/// per-API code.
public protocol KafkaEndpointCarrier {
    /// Visits every endpoint present at `version`, in schema order; changes made by `body` are kept.
    mutating func rewriteEndpoints(version: Int16, _ body: (inout KafkaEndpoint) -> Void)
}
