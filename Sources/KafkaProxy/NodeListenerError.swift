/// A node listener given an explicit port (`--node-port`) could not be bound when the proxy started.
public struct NodeListenerError: Error, CustomStringConvertible, Sendable {
    public var nodeId: Int32
    public var port: Int
    public var underlying: String

    public init(nodeId: Int32, port: Int, underlying: String) {
        self.nodeId = nodeId
        self.port = port
        self.underlying = underlying
    }

    public var description: String {
        "cannot listen for node \(nodeId) on port \(port) (--node-port): \(underlying)"
    }
}
