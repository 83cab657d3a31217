/// A client connection accepted by the proxy (or opened by replay, or found in a pcap).
public struct ConnectionOpenedRecord: Hashable, Sendable {
    /// When the client connection was accepted.
    public var time: CaptureTimestamp
    /// Unique within the capture; frames and the close record refer to it.
    public var connectionId: UInt64
    /// The client's address as the proxy saw it (`10.0.0.5:51234`).
    public var clientAddress: String
    /// The proxy listener the client connected to (`0.0.0.0:9092`).
    public var listenerAddress: String
    /// The broker address the proxy forwards this connection to.
    public var upstreamAddress: String
    /// The broker's node id, or `ConnectionOpenedRecord.bootstrapNodeId` (-1) for the bootstrap listener.
    public var nodeId: Int32
    /// What produced the connection: `proxy`, `replay`, `pcap`, ...
    public var role: String

    /// The node id of a connection made through the bootstrap address.
    public static let bootstrapNodeId: Int32 = -1

    /// A connection record; `nodeId` defaults to bootstrap and `role` to `proxy`.
    public init(
        time: CaptureTimestamp, connectionId: UInt64, clientAddress: String, listenerAddress: String,
        upstreamAddress: String, nodeId: Int32 = ConnectionOpenedRecord.bootstrapNodeId, role: String = "proxy"
    ) {
        self.time = time
        self.connectionId = connectionId
        self.clientAddress = clientAddress
        self.listenerAddress = listenerAddress
        self.upstreamAddress = upstreamAddress
        self.nodeId = nodeId
        self.role = role
    }
}
