/// The proxy's address for a broker: clients are told `proxyHost:proxyPort` wherever the broker
/// advertised `upstreamHost:upstreamPort` (Metadata, FindCoordinator, DescribeCluster responses).
public struct AddressMappingRecord: Hashable, Sendable {
    /// When the mapping was established.
    public var time: CaptureTimestamp
    /// The broker's node id.
    public var nodeId: Int32
    /// The host the broker advertised.
    public var upstreamHost: String
    /// Kafka carries ports as INT32; kept as advertised.
    public var upstreamPort: Int32
    /// The host clients are told instead.
    public var proxyHost: String
    /// The port clients are told instead.
    public var proxyPort: Int32

    /// A mapping record.
    public init(
        time: CaptureTimestamp, nodeId: Int32, upstreamHost: String, upstreamPort: Int32, proxyHost: String,
        proxyPort: Int32
    ) {
        self.time = time
        self.nodeId = nodeId
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.proxyHost = proxyHost
        self.proxyPort = proxyPort
    }
}
