import KafkaCapture
import KafkaProtocol

/// One connection as a comparison sees it before reading any frame: its role and the (API key,
/// version) of each request, which is what alignment pairs.
struct DiffConnection {
    var id: UInt64
    var nodeId: Int32
    var nodeDescription: String
    /// `apiKey << 16 | apiVersion` per exchange, in request order.
    var keys: [Int32]
}

/// What `CaptureDiff` walks: a capture in memory (`RecordedSession`) or an index of one on disk
/// (`IndexedCapture`), whose exchanges are read back one at a time in the order the comparison
/// needs them.
protocol DiffInput {
    var diffConnections: [DiffConnection] { get }
    var topicNames: [KafkaUUID: String] { get }
    var warnings: [String] { get }
    func exchange(connection: Int, index: Int) throws(CaptureError) -> Exchange
}

extension RecordedSession: DiffInput {
    var diffConnections: [DiffConnection] {
        connections.map { c in
            DiffConnection(
                id: c.id, nodeId: c.nodeId, nodeDescription: c.nodeDescription,
                keys: c.exchanges.map { Int32($0.apiKey) << 16 | Int32($0.apiVersion) })
        }
    }

    func exchange(connection: Int, index: Int) throws(CaptureError) -> Exchange {
        connections[connection].exchanges[index]
    }
}
