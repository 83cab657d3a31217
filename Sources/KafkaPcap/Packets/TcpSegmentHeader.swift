/// TCP header flags (RFC 9293 §3.1).
public struct TcpFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// No more data from the sender.
    public static let fin = TcpFlags(rawValue: 0x01)
    /// Synchronise sequence numbers (connection start).
    public static let syn = TcpFlags(rawValue: 0x02)
    /// Reset the connection.
    public static let rst = TcpFlags(rawValue: 0x04)
    /// Push: hand the data to the application.
    public static let psh = TcpFlags(rawValue: 0x08)
    /// The acknowledgement number is valid.
    public static let ack = TcpFlags(rawValue: 0x10)
    /// The urgent pointer is valid.
    public static let urg = TcpFlags(rawValue: 0x20)

    public var description: String {
        let names: [(TcpFlags, String)] = [(.syn, "SYN"), (.fin, "FIN"), (.rst, "RST"), (.psh, "PSH"), (.ack, "ACK"), (.urg, "URG")]
        let set = names.filter { contains($0.0) }.map(\.1)
        return set.isEmpty ? "none" : set.joined(separator: "|")
    }
}

/// A decoded TCP segment: its addresses and header, and where its payload lies in the packet.
public struct TcpSegmentHeader: Hashable, Sendable {
    /// The sender.
    public var source: TcpEndpoint
    /// The receiver.
    public var destination: TcpEndpoint
    /// The sequence number of the first payload byte (of the SYN itself for a SYN).
    public var sequenceNumber: UInt32
    /// The next sequence number the sender expects from the receiver (valid with ACK).
    public var acknowledgmentNumber: UInt32
    /// The header flags.
    public var flags: TcpFlags
    /// The advertised receive window (unscaled).
    public var window: UInt16
    /// The payload's position in the packet bytes that were decoded.
    public var payloadRange: Range<Int>
    /// Payload bytes the IP header declares but the capture does not hold (cut by the snapshot length).
    public var missingPayloadBytes: Int

    /// A segment header from its fields.
    public init(
        source: TcpEndpoint, destination: TcpEndpoint, sequenceNumber: UInt32, acknowledgmentNumber: UInt32,
        flags: TcpFlags, window: UInt16, payloadRange: Range<Int>, missingPayloadBytes: Int = 0
    ) {
        self.source = source
        self.destination = destination
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.payloadRange = payloadRange
        self.missingPayloadBytes = missingPayloadBytes
    }

    /// Payload bytes on the wire (captured or not).
    public var payloadLength: Int { payloadRange.count + missingPayloadBytes }
}
