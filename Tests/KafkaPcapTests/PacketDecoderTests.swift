import KafkaPcap
import Testing

/// Link, IP and TCP header decoding from crafted bytes.
@Suite struct PacketDecoderTests {
    let client = TcpEndpoint("192.0.2.10:40001")!
    let broker = TcpEndpoint("192.0.2.20:9092")!
    let payload: [UInt8] = Array("hello kafka".utf8)

    /// An Ethernet/IPv4/TCP packet from the exporter's builder.
    func ethernetPacket(source: TcpEndpoint? = nil, destination: TcpEndpoint? = nil, payload: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = []
        let p = payload ?? self.payload
        p.withUnsafeBytes {
            TcpPacketBuilder().build(
                into: &out, source: source ?? client, destination: destination ?? broker, sourceMAC: TcpPacketBuilder.clientMAC,
                destinationMAC: TcpPacketBuilder.serverMAC, sequenceNumber: 0xFFFF_FFF0, acknowledgmentNumber: 77, flags: [.ack, .psh],
                window: 1234, payload: $0, identification: 9)
        }
        return out
    }

    func decode(_ bytes: [UInt8], _ type: PcapLinkType) -> PacketDecodeResult {
        bytes.withUnsafeBytes { PacketDecoder(linkType: type).decode($0) }
    }

    func expectSegment(_ bytes: [UInt8], _ type: PcapLinkType, source: TcpEndpoint? = nil, destination: TcpEndpoint? = nil, payload: [UInt8]? = nil) {
        guard case .tcp(let s) = decode(bytes, type) else {
            Issue.record("not decoded as TCP: \(decode(bytes, type))")
            return
        }
        #expect(s.source == (source ?? client))
        #expect(s.destination == (destination ?? broker))
        #expect(s.sequenceNumber == 0xFFFF_FFF0)
        #expect(s.acknowledgmentNumber == 77)
        #expect(s.flags == [.ack, .psh])
        #expect(s.window == 1234)
        #expect(Array(bytes[s.payloadRange]) == (payload ?? self.payload))
        #expect(s.missingPayloadBytes == 0)
    }

    @Test func ethernetIPv4() {
        expectSegment(ethernetPacket(), .ethernet)
    }

    @Test func ethernetPaddingIsTrimmedByTheIPLength() {
        // A 1-byte payload makes a 55-byte frame; Ethernet pads it to 60 bytes.
        let p = ethernetPacket(payload: [0x42]) + [0, 0, 0, 0, 0]
        expectSegment(p, .ethernet, payload: [0x42])
    }

    @Test func vlanTagsSingleAndStacked() {
        let p = ethernetPacket()
        let single = Array(p[0..<12]) + [0x81, 0x00, 0x00, 0x64] + Array(p[12...])
        expectSegment(single, .ethernet)
        let qinq = Array(p[0..<12]) + [0x88, 0xA8, 0x00, 0x0A, 0x81, 0x00, 0x00, 0x64] + Array(p[12...])
        expectSegment(qinq, .ethernet)
    }

    @Test func linuxCookedV1AndV2() {
        let ip = Array(ethernetPacket()[14...])
        let sll: [UInt8] = [0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]
        expectSegment(sll + ip, .linuxSLL)
        let sll2: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0]
        expectSegment(sll2 + ip, .linuxSLL2)
    }

    @Test func rawIPAndLoopbackBothByteOrders() {
        let ip = Array(ethernetPacket()[14...])
        expectSegment(ip, .raw)
        expectSegment(ip, .linktypeRaw)
        expectSegment(ip, .ipv4)
        expectSegment([2, 0, 0, 0] + ip, .null)  // little-endian host
        expectSegment([0, 0, 0, 2] + ip, .null)  // big-endian host
        expectSegment([0, 0, 0, 2] + ip, .loop)
    }

    @Test func ipv6WithExtensionHeaders() {
        let c6 = TcpEndpoint("[2001:db8::10]:40001")!
        let b6 = TcpEndpoint("[2001:db8::20]:9092")!
        let p = ethernetPacket(source: c6, destination: b6)
        expectSegment(p, .ethernet, source: c6, destination: b6)
        // Insert a hop-by-hop header (8 bytes, next = TCP) after the fixed header.
        var ip = Array(p[14...])
        let tcpAndPayload = Array(ip[40...])
        ip[6] = 0  // next header: hop-by-hop
        let payloadLength = Int(ip[4]) << 8 | Int(ip[5])
        ip[4] = UInt8((payloadLength + 8) >> 8)
        ip[5] = UInt8((payloadLength + 8) & 0xFF)
        let withHopByHop = Array(ip[0..<40]) + [6, 0, 1, 4, 0, 0, 0, 0] + tcpAndPayload
        expectSegment(withHopByHop, .raw, source: c6, destination: b6)
        expectSegment([30, 0, 0, 0] + withHopByHop, .null, source: c6, destination: b6)  // Darwin AF_INET6
        expectSegment(withHopByHop, .ipv6, source: c6, destination: b6)
    }

    @Test func snapshotLengthCutShowsAsMissingPayload() {
        let p = ethernetPacket()
        let cut = Array(p[0..<(p.count - 4)])
        guard case .tcp(let s) = decode(cut, .ethernet) else {
            Issue.record("not TCP")
            return
        }
        #expect(Array(cut[s.payloadRange]) == Array(payload.prefix(payload.count - 4)))
        #expect(s.missingPayloadBytes == 4)
        #expect(s.payloadLength == payload.count)
    }

    @Test func nonTCPAndDamagedPacketsAreSkippedWithAReason() {
        var p = ethernetPacket()
        #expect(decode(Array(p[0..<30]), .ethernet) == .skipped(.truncated))
        var arp = p
        arp[12] = 0x08
        arp[13] = 0x06
        #expect(decode(arp, .ethernet) == .skipped(.notIP))
        var udp = p
        udp[14 + 9] = 17
        #expect(decode(udp, .ethernet) == .skipped(.notTCP))
        var fragment = p
        fragment[14 + 6] = 0x20  // more fragments
        #expect(decode(fragment, .ethernet) == .skipped(.fragment))
        p[14] = 0x42  // header length 8 bytes
        #expect(decode(p, .ethernet) == .skipped(.malformed))
        #expect(decode([1, 2, 3], .linuxSLL2) == .skipped(.truncated))
    }

    @Test func builderChecksumsVerify() {
        // The checksum over a header that includes its own checksum is zero.
        let p = ethernetPacket()
        var ipSum = InternetChecksum()
        ipSum.add(Array(p[14..<34]))
        #expect(ipSum.value == 0)
        var tcpSum = InternetChecksum()
        tcpSum.add(Array(p[26..<34]))  // source and destination addresses
        tcpSum.add(word: 6)
        tcpSum.add(word: UInt16(p.count - 34))
        tcpSum.add(Array(p[34...]))
        #expect(tcpSum.value == 0)
        // RFC 1071's example: 0001 f203 f4f5 f6f7 sums to ddf2, checksum 220d.
        var rfc = InternetChecksum()
        rfc.add([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])
        #expect(rfc.value == 0x220D)
    }

    @Test func endpointsParseAndPrint() {
        #expect(TcpEndpoint("127.0.0.1:9092")?.description == "127.0.0.1:9092")
        #expect(TcpEndpoint("[::1]:19092")?.description == "[::1]:19092")
        #expect(TcpEndpoint("[2001:db8::1]:1")?.address.isIPv6 == true)
        #expect(TcpEndpoint("broker:9092") == nil)
        #expect(TcpEndpoint("127.0.0.1:99999") == nil)
        #expect(IPAddress("0.0.0.0")?.isUnspecified == true)
    }
}
