import NIOCore

/// One entry of a capture, in the order the proxy observed it.
public enum CaptureRecord: Hashable, Sendable {
    /// A client connected and the proxy opened (or tried to open) its upstream connection.
    case connectionOpened(ConnectionOpenedRecord)
    /// One Kafka frame, as one side sent it.
    case frame(FrameRecord)
    /// The proxy advertises `proxyHost:proxyPort` for broker `nodeId` at `upstreamHost:upstreamPort`.
    case addressMapping(AddressMappingRecord)
    /// A connection ended.
    case connectionClosed(ConnectionClosedRecord)
    /// Anything else worth knowing: unreachable upstreams, malformed frames, rewrites, faults, gaps.
    case event(EventRecord)

    /// The record's type code in the file.
    public var type: CaptureRecordType {
        switch self {
        case .connectionOpened: return .connectionOpened
        case .frame: return .frame
        case .addressMapping: return .addressMapping
        case .connectionClosed: return .connectionClosed
        case .event: return .event
        }
    }

    /// When the record was taken. Every record body starts with this, whatever its type.
    public var time: CaptureTimestamp {
        switch self {
        case .connectionOpened(let r): return r.time
        case .frame(let r): return r.time
        case .addressMapping(let r): return r.time
        case .connectionClosed(let r): return r.time
        case .event(let r): return r.time
        }
    }

    /// The connection the record belongs to, if any.
    public var connectionId: UInt64? {
        switch self {
        case .connectionOpened(let r): return r.connectionId
        case .frame(let r): return r.connectionId
        case .addressMapping: return nil
        case .connectionClosed(let r): return r.connectionId
        case .event(let r): return r.connectionId
        }
    }
}

/// A record type code (the byte after the CRC). Codes this module does not know are skipped by
/// readers, so new types can be added without a format version bump.
public struct CaptureRecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The type byte.
    public var rawValue: UInt8
    /// Any type byte, known or not.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// 1: `ConnectionOpenedRecord`.
    public static let connectionOpened = CaptureRecordType(rawValue: 1)
    /// 2: `FrameRecord`.
    public static let frame = CaptureRecordType(rawValue: 2)
    /// 3: `AddressMappingRecord`.
    public static let addressMapping = CaptureRecordType(rawValue: 3)
    /// 4: `ConnectionClosedRecord`.
    public static let connectionClosed = CaptureRecordType(rawValue: 4)
    /// 5: `EventRecord`.
    public static let event = CaptureRecordType(rawValue: 5)

    /// Whether this build decodes the type.
    public var isKnown: Bool { (1...5).contains(rawValue) }

    /// `frame`, `event`, ... or `unknown(N)`.
    public var description: String {
        switch self {
        case .connectionOpened: return "connection-opened"
        case .frame: return "frame"
        case .addressMapping: return "address-mapping"
        case .connectionClosed: return "connection-closed"
        case .event: return "event"
        default: return "unknown(\(rawValue))"
        }
    }
}
