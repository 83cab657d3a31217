/// Who ended a connection. Codes this module does not know are kept.
public struct ConnectionCloser: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The byte stored in the record.
    public var rawValue: UInt8
    /// Any code, known or not.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The client closed (or reset) its side.
    public static let client = ConnectionCloser(rawValue: 0)
    /// The broker closed (or reset) its side.
    public static let broker = ConnectionCloser(rawValue: 1)
    /// The proxy closed it: shutdown, a fault, a protocol error.
    public static let proxy = ConnectionCloser(rawValue: 2)

    /// `client`, `broker`, `proxy` or `unknown(N)`.
    public var description: String {
        switch self {
        case .client: return "client"
        case .broker: return "broker"
        case .proxy: return "proxy"
        default: return "unknown(\(rawValue))"
        }
    }
}

/// A connection ended.
public struct ConnectionClosedRecord: Hashable, Sendable {
    /// When the close was observed.
    public var time: CaptureTimestamp
    /// The connection, as in its connection-opened record.
    public var connectionId: UInt64
    /// Which side ended it.
    public var closedBy: ConnectionCloser
    /// Free text: `EOF`, `connection reset by peer`, `idle timeout`, ...
    public var reason: String

    /// A close record; `reason` defaults to empty.
    public init(time: CaptureTimestamp, connectionId: UInt64, closedBy: ConnectionCloser, reason: String = "") {
        self.time = time
        self.connectionId = connectionId
        self.closedBy = closedBy
        self.reason = reason
    }
}
