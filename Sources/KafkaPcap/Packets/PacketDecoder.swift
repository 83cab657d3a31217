/// Why a packet was not handed to TCP reassembly.
public enum PacketSkipReason: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// Not IPv4 or IPv6 (ARP, LLDP, ...).
    case notIP = "not IP"
    /// IP, but not TCP (UDP, ICMP, ...).
    case notTCP = "not TCP"
    /// An IP fragment (TCP over fragmented IP is not reassembled).
    case fragment = "IP fragment"
    /// Cut off before the end of the TCP header.
    case truncated = "truncated headers"
    /// A header field that cannot be right (bad version, header length).
    case malformed = "malformed headers"

    public var description: String { rawValue }
}

/// The result of decoding one packet.
public enum PacketDecodeResult: Hashable, Sendable {
    /// A TCP segment; its payload is `payloadRange` of the decoded bytes.
    case tcp(TcpSegmentHeader)
    /// Not a TCP segment the importer can use.
    case skipped(PacketSkipReason)
}

/// Decodes link layer, IP and TCP headers of captured packets, without libpcap: Ethernet (with
/// stacked 802.1Q/802.1ad VLAN tags), Linux cooked v1 and v2, raw IP, BSD loopback (either byte
/// order) and OpenBSD loopback; IPv4 (options, Ethernet padding trimmed by the total length) and
/// IPv6 (hop-by-hop, routing, destination options, fragment and AH headers skipped).
///
/// A packet cut by the snapshot length decodes with `missingPayloadBytes` set; an IP total length
/// of 0 (seen with TCP segmentation offload) means "the rest of the capture".
public struct PacketDecoder: Sendable {
    /// The link-layer header type of the packets to decode.
    public let linkType: PcapLinkType

    /// A decoder for packets of `linkType` (see `PcapLinkType.isSupported`).
    public init(linkType: PcapLinkType) {
        self.linkType = linkType
    }

    /// Decodes one packet's bytes (link-layer header included).
    public func decode(_ b: UnsafeRawBufferPointer) -> PacketDecodeResult {
        switch linkType {
        case .ethernet:
            guard b.count >= 14 else { return .skipped(.truncated) }
            return etherType(b.loadBigEndianUInt16(at: 12), b, at: 14)
        case .linuxSLL:
            guard b.count >= 16 else { return .skipped(.truncated) }
            return etherType(b.loadBigEndianUInt16(at: 14), b, at: 16)
        case .linuxSLL2:
            guard b.count >= 20 else { return .skipped(.truncated) }
            return etherType(b.loadBigEndianUInt16(at: 0), b, at: 20)
        case .null, .loop:
            guard b.count >= 4 else { return .skipped(.truncated) }
            let big = b.loadBigEndianUInt32(at: 0)
            let family = linkType == .loop ? big : (big > 0xFFFF ? big.byteSwapped : big)
            switch family {
            case 2: return ipv4(b, at: 4)
            case 10, 24, 28, 30: return ipv6(b, at: 4)
            default: return .skipped(.notIP)
            }
        case .raw, .rawOpenBSD, .linktypeRaw:
            guard b.count >= 1 else { return .skipped(.truncated) }
            switch b[0] >> 4 {
            case 4: return ipv4(b, at: 0)
            case 6: return ipv6(b, at: 0)
            default: return .skipped(.notIP)
            }
        case .ipv4:
            return ipv4(b, at: 0)
        case .ipv6:
            return ipv6(b, at: 0)
        default:
            return .skipped(.notIP)
        }
    }

    private func etherType(_ type: UInt16, _ b: UnsafeRawBufferPointer, at start: Int) -> PacketDecodeResult {
        var type = type
        var offset = start
        var tags = 0
        // 802.1Q, 802.1ad (QinQ) and the pre-standard 0x9100: 2 bytes TCI, then the inner type.
        while type == 0x8100 || type == 0x88A8 || type == 0x9100 {
            tags += 1
            guard tags <= 8 else { return .skipped(.malformed) }
            guard b.count >= offset + 4 else { return .skipped(.truncated) }
            type = b.loadBigEndianUInt16(at: offset + 2)
            offset += 4
        }
        switch type {
        case 0x0800: return ipv4(b, at: offset)
        case 0x86DD: return ipv6(b, at: offset)
        default: return .skipped(.notIP)
        }
    }

    private func ipv4(_ b: UnsafeRawBufferPointer, at o: Int) -> PacketDecodeResult {
        guard b.count >= o + 20 else { return .skipped(.truncated) }
        guard b[o] >> 4 == 4 else { return .skipped(.malformed) }
        let headerLength = Int(b[o] & 0x0F) * 4
        guard headerLength >= 20 else { return .skipped(.malformed) }
        guard b.count >= o + headerLength else { return .skipped(.truncated) }
        var totalLength = Int(b.loadBigEndianUInt16(at: o + 2))
        if totalLength == 0 { totalLength = b.count - o }  // TSO: the NIC fills it in later
        guard totalLength >= headerLength else { return .skipped(.malformed) }
        let fragment = b.loadBigEndianUInt16(at: o + 6)
        guard fragment & 0x3FFF == 0 else { return .skipped(.fragment) }
        guard b[o + 9] == 6 else { return .skipped(.notTCP) }
        let source = IPAddress.read(v4: b, at: o + 12)
        let destination = IPAddress.read(v4: b, at: o + 16)
        return tcp(b, at: o + headerLength, declaredEnd: o + totalLength, source: source, destination: destination)
    }

    private func ipv6(_ b: UnsafeRawBufferPointer, at o: Int) -> PacketDecodeResult {
        guard b.count >= o + 40 else { return .skipped(.truncated) }
        guard b[o] >> 4 == 6 else { return .skipped(.malformed) }
        var payloadLength = Int(b.loadBigEndianUInt16(at: o + 4))
        if payloadLength == 0 { payloadLength = b.count - o - 40 }  // jumbogram or TSO
        var next = b[o + 6]
        let source = IPAddress.read(v6: b, at: o + 8)
        let destination = IPAddress.read(v6: b, at: o + 24)
        var p = o + 40
        let declaredEnd = p + payloadLength
        for _ in 0..<8 {
            switch next {
            case 6:
                return tcp(b, at: p, declaredEnd: declaredEnd, source: source, destination: destination)
            case 0, 43, 60:  // hop-by-hop, routing, destination options
                guard b.count >= p + 2 else { return .skipped(.truncated) }
                next = b[p]
                p += (Int(b[p + 1]) + 1) * 8
            case 44:  // fragment
                guard b.count >= p + 8 else { return .skipped(.truncated) }
                let offsetAndFlags = b.loadBigEndianUInt16(at: p + 2)
                guard offsetAndFlags & 0xFFF9 == 0 else { return .skipped(.fragment) }
                next = b[p]
                p += 8
            case 51:  // authentication header
                guard b.count >= p + 2 else { return .skipped(.truncated) }
                next = b[p]
                p += (Int(b[p + 1]) + 2) * 4
            default:
                return .skipped(.notTCP)
            }
            guard p <= declaredEnd else { return .skipped(.malformed) }
        }
        return .skipped(.malformed)
    }

    private func tcp(
        _ b: UnsafeRawBufferPointer, at p: Int, declaredEnd: Int, source: IPAddress, destination: IPAddress
    ) -> PacketDecodeResult {
        let capturedEnd = min(b.count, declaredEnd)
        guard capturedEnd >= p + 20 else { return .skipped(declaredEnd >= p + 20 ? .truncated : .malformed) }
        let dataOffset = Int(b[p + 12] >> 4) * 4
        guard dataOffset >= 20, declaredEnd >= p + dataOffset else { return .skipped(.malformed) }
        guard capturedEnd >= p + dataOffset else { return .skipped(.truncated) }
        return .tcp(
            TcpSegmentHeader(
                source: TcpEndpoint(address: source, port: b.loadBigEndianUInt16(at: p)),
                destination: TcpEndpoint(address: destination, port: b.loadBigEndianUInt16(at: p + 2)),
                sequenceNumber: b.loadBigEndianUInt32(at: p + 4),
                acknowledgmentNumber: b.loadBigEndianUInt32(at: p + 8),
                flags: TcpFlags(rawValue: b[p + 13] & 0x3F),
                window: b.loadBigEndianUInt16(at: p + 14),
                payloadRange: (p + dataOffset)..<capturedEnd,
                missingPayloadBytes: declaredEnd - capturedEnd))
    }
}
