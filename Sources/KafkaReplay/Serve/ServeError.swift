/// Why a `CaptureServer` could not start (or stopped before its session was played through).
public enum ServeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A node's listener could not bind its port.
    case cannotListen(node: Int32, port: Int, reason: String)
    /// `stop()` was called before the session was played through.
    case stopped

    /// One line: which listener and why, or that the server stopped.
    public var description: String {
        switch self {
        case .cannotListen(let node, let port, let reason): return "cannot listen for node \(node) on port \(port): \(reason)"
        case .stopped: return "the server stopped"
        }
    }
}
