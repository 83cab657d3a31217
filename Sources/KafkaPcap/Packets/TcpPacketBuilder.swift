/// Builds Ethernet + IPv4/IPv6 + TCP packets with correct IP and TCP checksums, for pcap export.
public struct TcpPacketBuilder: Sendable {
    /// The Ethernet addresses used for the two ends (locally administered, so they cannot clash
    /// with real hardware).
    public static let clientMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01]
    /// The server's (broker's or listener's) Ethernet address.
    public static let serverMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02]

    /// A builder; it holds no state.
    public init() {}

    /// Replaces `out` with one packet from `source` to `destination`. Both endpoints must be of
    /// the same IP family. `options` must be a multiple of 4 bytes.
    public func build(
        into out: inout [UInt8], source: TcpEndpoint, destination: TcpEndpoint, sourceMAC: [UInt8],
        destinationMAC: [UInt8], sequenceNumber: UInt32, acknowledgmentNumber: UInt32, flags: TcpFlags,
        window: UInt16, options: [UInt8] = [], payload: UnsafeRawBufferPointer, identification: UInt16
    ) {
        out.removeAll(keepingCapacity: true)
        let v6 = source.address.isIPv6
        out.append(contentsOf: destinationMAC)
        out.append(contentsOf: sourceMAC)
        out.appendBigEndian(UInt16(v6 ? 0x86DD : 0x0800))
        let ipStart = out.count
        let tcpLength = 20 + options.count + payload.count
        if v6 {
            out.appendBigEndian(UInt32(0x6000_0000))
            out.appendBigEndian(UInt16(tcpLength))
            out.append(6)  // next header: TCP
            out.append(64)  // hop limit
            out.append(contentsOf: source.address.bytes)
            out.append(contentsOf: destination.address.bytes)
        } else {
            out.append(0x45)
            out.append(0)
            out.appendBigEndian(UInt16(20 + tcpLength))
            out.appendBigEndian(identification)
            out.appendBigEndian(UInt16(0x4000))  // don't fragment
            out.append(64)  // TTL
            out.append(6)  // TCP
            out.appendBigEndian(UInt16(0))
            out.append(contentsOf: source.address.bytes)
            out.append(contentsOf: destination.address.bytes)
            var ipSum = InternetChecksum()
            out.withUnsafeBytes { ipSum.add(UnsafeRawBufferPointer(rebasing: $0[ipStart..<(ipStart + 20)])) }
            out.setBigEndian(ipSum.value, at: ipStart + 10)
        }
        let tcpStart = out.count
        out.appendBigEndian(source.port)
        out.appendBigEndian(destination.port)
        out.appendBigEndian(sequenceNumber)
        out.appendBigEndian(acknowledgmentNumber)
        out.append(UInt8((20 + options.count) / 4) << 4)
        out.append(flags.rawValue)
        out.appendBigEndian(window)
        out.appendBigEndian(UInt16(0))  // checksum
        out.appendBigEndian(UInt16(0))  // urgent pointer
        out.append(contentsOf: options)
        out.append(contentsOf: payload)
        // Pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1), then the segment.
        var sum = InternetChecksum()
        sum.add(source.address.bytes)
        sum.add(destination.address.bytes)
        sum.add(word: 6)
        if v6 {
            sum.add(word: UInt16(truncatingIfNeeded: tcpLength >> 16))
        }
        sum.add(word: UInt16(truncatingIfNeeded: tcpLength))
        out.withUnsafeBytes { sum.add(UnsafeRawBufferPointer(rebasing: $0[tcpStart...])) }
        out.setBigEndian(sum.value, at: tcpStart + 16)
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    mutating func setBigEndian(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(value >> 8)
        self[offset + 1] = UInt8(value & 0xFF)
    }
}
