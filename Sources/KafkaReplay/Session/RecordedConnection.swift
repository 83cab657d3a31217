import KafkaCapture
import KafkaProtocol

/// One client connection of a capture with its exchanges in the order the client sent the requests.
public struct RecordedConnection: Sendable {
    public var id: UInt64
    /// The broker node the connection was for (`ConnectionOpenedRecord.bootstrapNodeId` = -1: bootstrap).
    public var nodeId: Int32
    /// What produced it: `proxy`, `replay`, ...
    public var role: String
    public var opened: ConnectionOpenedRecord?
    public var closed: ConnectionClosedRecord?
    public var exchanges: [Exchange]

    public init(
        id: UInt64, nodeId: Int32 = ConnectionOpenedRecord.bootstrapNodeId, role: String = "proxy",
        opened: ConnectionOpenedRecord? = nil, closed: ConnectionClosedRecord? = nil, exchanges: [Exchange] = []
    ) {
        self.id = id
        self.nodeId = nodeId
        self.role = role
        self.opened = opened
        self.closed = closed
        self.exchanges = exchanges
    }

    /// When the first request was sent (nil for a connection that sent none).
    public var firstRequestTime: CaptureTimestamp? { exchanges.first?.request.time }

    /// `bootstrap` or `node N`.
    public var nodeDescription: String { nodeId < 0 ? "bootstrap" : "node \(nodeId)" }
}
