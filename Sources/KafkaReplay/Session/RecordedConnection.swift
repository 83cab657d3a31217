import KafkaCapture
import KafkaProtocol

/// One client connection of a capture with its exchanges in the order the client sent the requests.
public struct RecordedConnection: Sendable {
    /// The connection id in its capture.
    public var id: UInt64
    /// The broker node the connection was for (`ConnectionOpenedRecord.bootstrapNodeId` = -1: bootstrap).
    public var nodeId: Int32
    /// What produced it: `proxy`, `replay`, ...
    public var role: String
    /// The capture's record of the opening (addresses, listener), when it has one.
    public var opened: ConnectionOpenedRecord?
    /// The capture's record of the close (who closed, why), when it has one.
    public var closed: ConnectionClosedRecord?
    /// Request/response pairs in the order the client sent the requests.
    public var exchanges: [Exchange]

    /// A connection from its parts (tests and builders; reading a capture makes them itself).
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
