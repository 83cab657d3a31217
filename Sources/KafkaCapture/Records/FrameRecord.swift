import NIOCore

/// Which side sent a frame.
public enum FrameDirection: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// Client to broker: a request.
    case request = 0
    /// Broker to client: a response.
    case response = 1

    /// `request` or `response`.
    public var description: String { self == .request ? "request" : "response" }
}

/// Flags on a frame record. Bits this module does not know are kept.
public struct FrameFlags: OptionSet, Hashable, Sendable {
    /// The flags byte as stored.
    public var rawValue: UInt8
    /// Any flags byte; unknown bits are kept.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The payload is a redaction marker, not what was sent (the original was `wireLength` bytes).
    public static let redacted = FrameFlags(rawValue: 1 << 0)
    /// The payload is a prefix of what was sent (the original was `wireLength` bytes).
    public static let truncated = FrameFlags(rawValue: 1 << 1)
}

/// One Kafka frame. The payload is the frame exactly as received, without Kafka's 4-byte size
/// prefix: for a request it starts with the request header (api key, api version, correlation id),
/// for a response with the correlation id.
public struct FrameRecord: Hashable, Sendable {
    /// When the proxy had read the whole frame.
    public var time: CaptureTimestamp
    /// The connection, as in its connection-opened record.
    public var connectionId: UInt64
    /// Which side sent it.
    public var direction: FrameDirection
    /// Redacted, truncated.
    public var flags: FrameFlags
    /// The frame's size on the wire (the value of its size prefix). Equal to `payload.readableBytes`
    /// unless the frame was redacted or truncated.
    public var wireLength: UInt32
    /// The frame bytes. From a reader, a slice of the reader's chunk (no copy).
    public var payload: ByteBuffer

    /// A frame captured whole: `wireLength` is the payload's length.
    public init(time: CaptureTimestamp, connectionId: UInt64, direction: FrameDirection, payload: ByteBuffer) {
        self.init(
            time: time, connectionId: connectionId, direction: direction, flags: [],
            wireLength: UInt32(truncatingIfNeeded: payload.readableBytes), payload: payload)
    }

    /// A frame with explicit flags and wire length (for redacted or truncated frames).
    public init(
        time: CaptureTimestamp, connectionId: UInt64, direction: FrameDirection, flags: FrameFlags,
        wireLength: UInt32, payload: ByteBuffer
    ) {
        self.time = time
        self.connectionId = connectionId
        self.direction = direction
        self.flags = flags
        self.wireLength = wireLength
        self.payload = payload
    }

    /// Whether the payload is exactly the bytes that were sent.
    public var isComplete: Bool {
        !flags.contains(.redacted) && !flags.contains(.truncated) && Int(wireLength) == payload.readableBytes
    }
}
