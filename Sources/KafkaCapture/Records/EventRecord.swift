import NIOCore

/// Something the proxy (or an importer) wants the capture to remember that is not a frame.
public struct EventRecord: Hashable, Sendable {
    /// What kind of event. Open-ended: any string is valid; the constants are the ones KafkaTape writes.
    public struct Kind: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        /// The kind as stored.
        public var rawValue: String
        /// Any kind string.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A kind from a literal: `"my-kind"`.
        public init(stringLiteral value: String) { self.rawValue = value }
        /// The raw string.
        public var description: String { rawValue }

        /// The upstream broker could not be reached.
        public static let upstreamUnreachable: Kind = "upstream-unreachable"
        /// A frame could not be split or parsed (its bytes may be in `payload`).
        public static let malformedFrame: Kind = "malformed-frame"
        /// The proxy changed a frame (address rewriting); the frame record holds what was forwarded.
        public static let rewrite: Kind = "rewrite"
        /// An injected fault (delay, drop, error).
        public static let fault: Kind = "fault"
        /// Bytes are missing (pcap import lost packets, a capture was paused).
        public static let gap: Kind = "gap"
        /// A frame's payload was redacted.
        public static let redaction: Kind = "redaction"
        /// A broker node is reached at another address than the one it advertised (`--upstream-node`,
        /// `--target-node`); attributes `node`, `advertised`, `used`.
        public static let upstreamOverride: Kind = "upstream-override"
    }

    /// An ordered key/value pair; keys may repeat.
    public struct Attribute: Hashable, Sendable {
        /// The attribute's name.
        public var key: String
        /// The attribute's value.
        public var value: String
        /// A key/value pair.
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// When it happened.
    public var time: CaptureTimestamp
    /// The connection concerned, if any.
    public var connectionId: UInt64?
    /// What kind of event.
    public var kind: Kind
    /// For people.
    public var message: String
    /// Machine-readable details, in order.
    public var attributes: [Attribute]
    /// Bytes that go with the event (a malformed frame, a pre-rewrite frame), if any.
    public var payload: ByteBuffer?

    /// An event record.
    public init(
        time: CaptureTimestamp, connectionId: UInt64? = nil, kind: Kind, message: String,
        attributes: [Attribute] = [], payload: ByteBuffer? = nil
    ) {
        self.time = time
        self.connectionId = connectionId
        self.kind = kind
        self.message = message
        self.attributes = attributes
        self.payload = payload
    }

    /// The value of the first attribute named `key`.
    public subscript(attribute key: String) -> String? {
        attributes.first { $0.key == key }?.value
    }
}
