/// A node listener given an explicit port (`--node-port`) could not be bound when the proxy started.
public struct NodeListenerError: Error, CustomStringConvertible, Sendable {
    /// The node whose listener failed.
    public var nodeId: Int32
    /// The port asked for with `--node-port`.
    public var port: Int
    /// Why the bind failed, as the system said.
    public var underlying: String

    /// A failed `--node-port` bind.
    public init(nodeId: Int32, port: Int, underlying: String) {
        self.nodeId = nodeId
        self.port = port
        self.underlying = underlying
    }

    /// One line for stderr.
    public var description: String {
        "cannot listen for node \(nodeId) on port \(port) (--node-port): \(underlying)"
    }
}
