import KafkaCapture
import NIOCore

/// Turns capture records into TCP packets for Wireshark: each connection becomes a TCP flow with
/// its own 4-tuple (the recorded client and listener addresses where they parse, else 127.0.0.1
/// with distinct ports, and further loopback addresses once an address pair has used up its ports),
/// a three-way handshake, consistent sequence and acknowledgement numbers,
/// every frame (its size prefix, then the payload as recorded) split into segments of at most `mss`
/// bytes, an ACK from the receiver after each frame (and every 16 segments inside large ones, so
/// the 65535-byte window is never exceeded), FIN both ways at close, and at `finish()` for flows
/// still open. Timestamps are the records' wall-clock times, made non-decreasing.
public final class PcapExporter {
    /// What was exported.
    public struct Statistics: Hashable, Sendable {
        /// TCP flows (capture connections).
        public var flows = 0
        /// Kafka frames.
        public var frames = 0
        /// Packets written (handshakes, data, ACKs, FINs).
        public var packets = 0
        /// Server (broker or listener) ports of the flows, for `tshark -d tcp.port==PORT,kafka`.
        public var serverPorts: Set<UInt16> = []
    }

    /// The largest TCP payload per packet.
    public let mss: Int
    /// What has been exported so far.
    public private(set) var statistics = Statistics()
    private let writer: PcapFileWriter
    private let builder = TcpPacketBuilder()
    private var flows: [UInt64: ExportFlow] = [:]
    private var usedTuples: Set<FlowKey> = []
    /// Fallback client endpoints handed out so far (see `fallbackClient`).
    private var fallbacksUsed: UInt64 = 0
    private var lastTimestampNs: Int64 = 0
    private var packet: [UInt8] = []
    private var stream: [UInt8] = []

    static let window: UInt16 = 65535
    /// Segments sent before the receiver acknowledges inside a large frame.
    static let segmentsPerAck = 16

    /// - Parameter mss: Largest TCP payload per packet (1460 fits a 1500-byte Ethernet MTU over IPv4).
    public init(writer: PcapFileWriter, mss: Int = 1460) {
        self.writer = writer
        self.mss = max(1, min(mss, 65000))
    }

    /// Exports one record. Connection opens start a flow; frames become data segments; closes end
    /// the flow with FINs. Other records are not packets and are skipped.
    public func process(_ record: CaptureRecord) {
        switch record {
        case .connectionOpened(let o):
            if let old = flows.removeValue(forKey: o.connectionId) { close(old, by: .client, at: o.time.wallNs) }
            _ = openFlow(id: o.connectionId, client: TcpEndpoint(o.clientAddress), server: TcpEndpoint(o.listenerAddress), at: o.time.wallNs)
        case .frame(let f):
            let flow = flows[f.connectionId] ?? openFlow(id: f.connectionId, client: nil, server: nil, at: f.time.wallNs)
            send(f, on: flow)
        case .connectionClosed(let c):
            if let flow = flows.removeValue(forKey: c.connectionId) { close(flow, by: c.closedBy, at: c.time.wallNs) }
        case .addressMapping, .event:
            break
        }
    }

    /// Closes every flow still open (FIN both ways) at the last timestamp seen.
    public func finish() {
        for id in flows.keys.sorted() {
            if let flow = flows[id] { close(flow, by: .client, at: lastTimestampNs) }
        }
        flows.removeAll()
    }

    // MARK: - Flows

    private func openFlow(id: UInt64, client: TcpEndpoint?, server: TcpEndpoint?, at wallNs: Int64) -> ExportFlow {
        var server = server
        if let s = server, s.address.isUnspecified {
            server = TcpEndpoint(address: s.address.isIPv6 ? .loopbackV6 : .loopbackV4, port: s.port)
        }
        var client = client
        if let c = client, c.address.isUnspecified {
            client = TcpEndpoint(address: c.address.isIPv6 ? .loopbackV6 : .loopbackV4, port: c.port)
        }
        let s = server ?? TcpEndpoint(address: client.map { $0.address.isIPv6 ? .loopbackV6 : .loopbackV4 } ?? .loopbackV4, port: 9092)
        var c = client ?? TcpEndpoint(address: s.address.isIPv6 ? .loopbackV6 : .loopbackV4, port: 0)
        if c.address.isIPv6 != s.address.isIPv6 {
            c = TcpEndpoint(address: s.address.isIPv6 ? .loopbackV6 : .loopbackV4, port: c.port)
        }
        // Every flow gets a 4-tuple of its own, so Wireshark never mistakes one for another. Each
        // fallback is a client endpoint never handed out before, so this ends however many flows
        // share an address pair.
        let recorded = c.address
        while c.port == 0 || c == s || usedTuples.contains(FlowKey(c, s)) {
            c = fallbackClient(recordedAddress: recorded)
        }
        usedTuples.insert(FlowKey(c, s))
        let flow = ExportFlow(id: id, client: c, server: s)
        flows[id] = flow
        statistics.flows += 1
        statistics.serverPorts.insert(s.port)
        let t = timestamp(wallNs)
        let mssOption: [UInt8] = [2, 4, UInt8(mss >> 8), UInt8(mss & 0xFF)]
        emit(flow, fromClient: true, flags: .syn, seq: flow.clientSeq &- 1, ack: 0, options: mssOption, at: t)
        emit(flow, fromClient: false, flags: [.syn, .ack], seq: flow.serverSeq &- 1, ack: flow.clientSeq, options: mssOption, at: t)
        emit(flow, fromClient: true, flags: .ack, seq: flow.clientSeq, ack: flow.serverSeq, at: t)
        return flow
    }

    /// Client ports handed out per address: 40000-65000.
    static let fallbackPorts: ClosedRange<UInt16> = 40000...65000

    /// The next client endpoint from an endless sequence of distinct ones: the recorded address with
    /// ports 40000-65000, then, when those are spent (more connections than ports), 127.0.0.2,
    /// 127.0.0.3, ... (IPv6: ::2, ::3, ...) with the same ports: 25,001 flows per address, 16 million
    /// addresses in 127/8.
    private func fallbackClient(recordedAddress: IPAddress) -> TcpEndpoint {
        let perAddress = UInt64(Self.fallbackPorts.count)
        let k = fallbacksUsed
        fallbacksUsed += 1
        let port = Self.fallbackPorts.lowerBound + UInt16(k % perAddress)
        let round = k / perAddress
        guard round > 0 else { return TcpEndpoint(address: recordedAddress, port: port) }
        let address: IPAddress =
            recordedAddress.isIPv6 ? .v6(0, 1 &+ round) : .v4(0x7F00_0001 &+ UInt32(truncatingIfNeeded: round))
        return TcpEndpoint(address: address, port: port)
    }

    private func send(_ frame: FrameRecord, on flow: ExportFlow) {
        let t = timestamp(frame.time.wallNs)
        let fromClient = frame.direction == .request
        // The size prefix must match the bytes written: redacted and truncated frames are written
        // as recorded, with their payload's length.
        stream.removeAll(keepingCapacity: true)
        stream.appendBigEndian(UInt32(truncatingIfNeeded: frame.payload.readableBytes))
        stream.append(contentsOf: frame.payload.readableBytesView)
        statistics.frames += 1
        var sent = 0
        var segments = 0
        stream.withUnsafeBytes { all in
            while sent < all.count {
                let n = min(mss, all.count - sent)
                let last = sent + n == all.count
                let seq = fromClient ? flow.clientSeq : flow.serverSeq
                let ack = fromClient ? flow.serverSeq : flow.clientSeq
                emit(
                    flow, fromClient: fromClient, flags: last ? [.ack, .psh] : .ack, seq: seq, ack: ack,
                    payload: UnsafeRawBufferPointer(rebasing: all[sent..<(sent + n)]), at: t)
                if fromClient { flow.clientSeq &+= UInt32(n) } else { flow.serverSeq &+= UInt32(n) }
                sent += n
                segments += 1
                if last || segments % Self.segmentsPerAck == 0 {
                    // The receiver acknowledges: what a real stack's delayed ACK would do.
                    emit(
                        flow, fromClient: !fromClient, flags: .ack, seq: fromClient ? flow.serverSeq : flow.clientSeq,
                        ack: fromClient ? flow.clientSeq : flow.serverSeq, at: t)
                }
            }
        }
    }

    private func close(_ flow: ExportFlow, by closer: ConnectionCloser, at wallNs: Int64) {
        let t = timestamp(wallNs)
        let clientFirst = closer != .broker
        let (firstSeq, secondSeq) = clientFirst ? (flow.clientSeq, flow.serverSeq) : (flow.serverSeq, flow.clientSeq)
        emit(flow, fromClient: clientFirst, flags: [.fin, .ack], seq: firstSeq, ack: secondSeq, at: t)
        emit(flow, fromClient: !clientFirst, flags: [.fin, .ack], seq: secondSeq, ack: firstSeq &+ 1, at: t)
        emit(flow, fromClient: clientFirst, flags: .ack, seq: firstSeq &+ 1, ack: secondSeq &+ 1, at: t)
    }

    private func emit(
        _ flow: ExportFlow, fromClient: Bool, flags: TcpFlags, seq: UInt32, ack: UInt32, options: [UInt8] = [],
        payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), at t: Int64
    ) {
        let id: UInt16
        if fromClient {
            id = flow.clientIPId
            flow.clientIPId &+= 1
        } else {
            id = flow.serverIPId
            flow.serverIPId &+= 1
        }
        builder.build(
            into: &packet, source: fromClient ? flow.client : flow.server, destination: fromClient ? flow.server : flow.client,
            sourceMAC: fromClient ? TcpPacketBuilder.clientMAC : TcpPacketBuilder.serverMAC,
            destinationMAC: fromClient ? TcpPacketBuilder.serverMAC : TcpPacketBuilder.clientMAC, sequenceNumber: seq,
            acknowledgmentNumber: ack, flags: flags, window: Self.window, options: options, payload: payload, identification: id)
        writer.write(timestampNs: t, bytes: packet)
        statistics.packets += 1
    }

    /// Record times made non-decreasing (pcap readers expect packets in time order).
    private func timestamp(_ wallNs: Int64) -> Int64 {
        lastTimestampNs = max(lastTimestampNs, wallNs)
        return lastTimestampNs
    }
}

/// One exported connection's TCP state: the next sequence number each side sends.
final class ExportFlow {
    let id: UInt64
    let client: TcpEndpoint
    let server: TcpEndpoint
    var clientSeq: UInt32
    var serverSeq: UInt32
    var clientIPId: UInt16
    var serverIPId: UInt16

    init(id: UInt64, client: TcpEndpoint, server: TcpEndpoint) {
        self.id = id
        self.client = client
        self.server = server
        // Deterministic initial sequence numbers, different per connection and side (Fibonacci hashing).
        let h = (id &+ 1) &* 0x9E37_79B9_7F4A_7C15
        clientSeq = UInt32(truncatingIfNeeded: h >> 32) &+ 1
        serverSeq = UInt32(truncatingIfNeeded: h) &+ 1
        clientIPId = UInt16(truncatingIfNeeded: h >> 16)
        serverIPId = UInt16(truncatingIfNeeded: h >> 48)
    }
}
