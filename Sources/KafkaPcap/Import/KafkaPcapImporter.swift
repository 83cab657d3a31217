import KafkaCapture
import KafkaProtocol
import NIOCore

/// Turns captured packets into a KafkaTape capture: decodes link, IP and TCP headers, finds the
/// Kafka connections, reassembles each direction (`TcpReassembler`), splits the streams into frames
/// (`KafkaStreamSplitter`) and writes connection-opened, frame, event and connection-closed records
/// with the packets' timestamps. Used by `pcap import` (files) and `sniff` (live capture) alike.
///
/// **Which flows are Kafka, and which side is the broker**: a flow with exactly one end on a
/// broker port is Kafka, that end the broker. A flow with both ends on broker ports is decided by
/// its SYN (the SYN's sender is the client) or, joined mid-way, by which side sends a plausible
/// request first, else by which side answers. With `detectBrokerPorts`, a flow on no broker port
/// whose client speaks first with a plausible Kafka request is Kafka too, and the port it talks to
/// becomes a broker port.
///
/// Memory is bounded: per connection, one partial frame per direction plus the out-of-order
/// buffer limit; per undecided flow, a few packets. Connections are released when they close.
public final class KafkaPcapImporter {
    /// How flows are recognised and streams reassembled.
    public struct Configuration: Hashable, Sendable {
        /// Ports brokers listen on.
        public var brokerPorts: Set<UInt16>
        /// Recognise Kafka on other ports by its first request.
        public var detectBrokerPorts: Bool
        /// Limits of TCP reassembly (out-of-order buffer, hold time, ACK grace).
        public var reassembly: TcpReassembler.Configuration
        /// Limits of frame splitting (largest frame, resynchronisation).
        public var splitting: KafkaStreamSplitter.Configuration
        /// Flows on no broker port held while deciding whether they are Kafka.
        public var maxUndecidedFlows: Int

        /// Kafka's registered port.
        public static let defaultBrokerPort: UInt16 = 9092

        /// A configuration; the defaults are those of `pcap import` without `--port`.
        public init(
            brokerPorts: Set<UInt16> = [Configuration.defaultBrokerPort], detectBrokerPorts: Bool = true,
            reassembly: TcpReassembler.Configuration = .init(), splitting: KafkaStreamSplitter.Configuration = .init(),
            maxUndecidedFlows: Int = 1024
        ) {
            self.brokerPorts = brokerPorts
            self.detectBrokerPorts = detectBrokerPorts
            self.reassembly = reassembly
            self.splitting = splitting
            self.maxUndecidedFlows = maxUndecidedFlows
        }
    }

    /// Event kinds the importer writes besides the capture format's own (`gap`, `malformed-frame`).
    public enum EventKinds {
        /// Bytes skipped looking for a frame boundary.
        public static let resync: EventRecord.Kind = "resync"
        /// A stream ended inside a frame.
        public static let incompleteFrame: EventRecord.Kind = "incomplete-frame"
    }

    /// The configuration the importer was made with.
    public let configuration: Configuration
    /// What has been imported so far.
    public private(set) var statistics = PcapImportStatistics()
    /// Broker ports in use: the configured ones plus any detected.
    public private(set) var brokerPorts: Set<UInt16>

    private let writer: CaptureWriter
    private var flows: [FlowKey: Flow] = [:]
    private var undecided = 0
    private var ignored = 0
    /// Ignored flows remembered (so their packets are dropped cheaply); beyond this they are
    /// forgotten and looked at again if they show up.
    private static let maxIgnoredFlows = 100_000
    private var recentlyClosed: [FlowKey: Int64] = [:]
    private var nextConnectionId: UInt64 = 1
    private var lastMonotonicNs: Int64 = 0
    private var lastPacketNs: Int64 = 0
    private var finished = false

    private enum Flow {
        case connection(ImportedConnection)
        case undecided(UndecidedFlow)
        case ignored
    }

    /// Packets without a SYN on a 4-tuple closed less than this long ago are late retransmissions.
    private static let closedQuietNs: Int64 = 60_000_000_000

    /// An importer appending to `writer` (which it does not close).
    public init(writer: CaptureWriter, configuration: Configuration = Configuration()) {
        self.writer = writer
        self.configuration = configuration
        self.brokerPorts = configuration.brokerPorts
    }

    /// Decodes and imports one captured packet.
    public func process(_ packet: PcapPacket, decoder: PacketDecoder) throws(CaptureError) {
        statistics.packets += 1
        switch decoder.decode(packet.data) {
        case .skipped(let reason):
            statistics.skippedPackets[reason, default: 0] += 1
        case .tcp(let segment):
            let payload = UnsafeRawBufferPointer(rebasing: packet.data[segment.payloadRange])
            try process(segment: segment, payload: payload, timestampNs: packet.timestampNs)
        }
    }

    /// Imports one decoded TCP segment; `payload` is its captured payload.
    public func process(segment: TcpSegmentHeader, payload: UnsafeRawBufferPointer, timestampNs: Int64) throws(CaptureError) {
        statistics.tcpSegments += 1
        statistics.payloadBytes += Int64(payload.count)
        lastPacketNs = max(lastPacketNs, timestampNs)
        let key = FlowKey(segment.source, segment.destination)
        let flags = segment.flags
        if let flow = flows[key] {
            switch flow {
            case .connection(let c):
                let newConnection = flags.contains(.syn) && !flags.contains(.ack) && segment.source == c.client
                    && c.active && c.clientISN != segment.sequenceNumber
                if !newConnection {
                    try feed(c, key: key, segment: segment, payload: payload, timestampNs: timestampNs)
                    return
                }
                try close(c, key: key, by: .client, reason: "a new connection reused the ports", timestampNs: timestampNs)
            case .undecided(let u):
                try consider(u, key: key, segment: segment, payload: payload, timestampNs: timestampNs)
                return
            case .ignored:
                if flags.contains(.fin) || flags.contains(.rst) {
                    flows[key] = nil
                    ignored -= 1
                }
                return
            }
        }
        try startFlow(key: key, segment: segment, payload: payload, timestampNs: timestampNs)
    }

    /// Ends the import: every stream is flushed (holes become gaps, frames in progress are written
    /// truncated), connections with a FIN get their close record, and open ones stay open (their
    /// outstanding requests read as "capture ended"). Does not close the writer.
    public func finish() throws(CaptureError) {
        guard !finished else { return }
        finished = true
        var open: [(FlowKey, ImportedConnection)] = []
        for (key, flow) in flows {
            switch flow {
            case .connection(let c): open.append((key, c))
            case .undecided: statistics.ignoredFlows += 1
            case .ignored: break
            }
        }
        open.sort { $0.1.id < $1.1.id }
        for (key, c) in open {
            c.flush(reason: .captureEnded, timestampNs: max(c.lastPacketNs, lastPacketNs))
            try drain(c)
            if let closer = c.firstFin {
                try close(c, key: key, by: closer, reason: "FIN (the other side had not closed when the capture ended)", timestampNs: c.lastPacketNs)
            } else {
                collect(c)
            }
        }
        flows.removeAll()
    }

    // MARK: - Flows

    private func startFlow(key: FlowKey, segment: TcpSegmentHeader, payload: UnsafeRawBufferPointer, timestampNs: Int64) throws(CaptureError) {
        let flags = segment.flags
        let syn = flags.contains(.syn)
        if flags.contains(.rst) { return }
        if !syn && segment.payloadLength == 0 { return }
        if !syn, let closedAt = recentlyClosed[key], timestampNs - closedAt < Self.closedQuietNs { return }
        let sourceIsBroker = brokerPorts.contains(segment.source.port)
        let destinationIsBroker = brokerPorts.contains(segment.destination.port)
        // The SYN's sender is the client; a SYN-ACK's sender is the server.
        let synClient: TcpEndpoint? = syn ? (flags.contains(.ack) ? segment.destination : segment.source) : nil
        if sourceIsBroker != destinationIsBroker {
            let broker = sourceIsBroker ? segment.source : segment.destination
            let client = sourceIsBroker ? segment.destination : segment.source
            let c = try open(key: key, client: client, broker: broker, synchronized: syn, timestampNs: timestampNs)
            try feed(c, key: key, segment: segment, payload: payload, timestampNs: timestampNs)
            return
        }
        if sourceIsBroker && destinationIsBroker, let synClient {
            let broker = synClient == segment.source ? segment.destination : segment.source
            let c = try open(key: key, client: synClient, broker: broker, synchronized: true, timestampNs: timestampNs)
            try feed(c, key: key, segment: segment, payload: payload, timestampNs: timestampNs)
            return
        }
        guard sourceIsBroker || configuration.detectBrokerPorts else {
            ignore(key)
            return
        }
        guard undecided < configuration.maxUndecidedFlows else {
            ignore(key)
            return
        }
        let u = UndecidedFlow(client: synClient, onBrokerPorts: sourceIsBroker)
        flows[key] = .undecided(u)
        undecided += 1
        try consider(u, key: key, segment: segment, payload: payload, timestampNs: timestampNs)
    }

    /// Holds a packet of an undecided flow and decides when it can.
    private func consider(
        _ u: UndecidedFlow, key: FlowKey, segment: TcpSegmentHeader, payload: UnsafeRawBufferPointer, timestampNs: Int64
    ) throws(CaptureError) {
        // Closed before it showed what it is: nothing to import.
        if segment.flags.contains(.rst) || (segment.flags.contains(.fin) && payload.isEmpty) {
            flows[key] = nil
            undecided -= 1
            statistics.ignoredFlows += 1
            return
        }
        if segment.flags.contains(.syn) && u.client == nil {
            u.client = segment.flags.contains(.ack) ? segment.destination : segment.source
        }
        u.hold(segment, payload: payload, timestampNs: timestampNs)
        switch u.decide(from: segment.source, payload: payload) {
        case .undecided:
            return
        case .notKafka:
            undecided -= 1
            ignore(key)
        case .kafka(let client):
            undecided -= 1
            let broker = client == key.low ? key.high : key.low
            if !brokerPorts.contains(broker.port) {
                brokerPorts.insert(broker.port)
                statistics.detectedBrokerPorts.append(broker.port)
            }
            let c = try open(key: key, client: client, broker: broker, synchronized: u.sawSyn, timestampNs: u.firstTimestampNs)
            for held in u.held {
                var failure: CaptureError?
                held.payload.withUnsafeBytes { raw in
                    do throws(CaptureError) {
                        try feed(c, key: key, segment: held.segment, payload: raw, timestampNs: held.timestampNs)
                    } catch {
                        failure = error
                    }
                }
                if let failure { throw failure }
                guard case .connection = flows[key] else { break }
            }
            u.held.removeAll()
        }
    }

    private func ignore(_ key: FlowKey) {
        statistics.ignoredFlows += 1
        if ignored >= Self.maxIgnoredFlows {
            flows = flows.filter { if case .ignored = $0.value { return false } else { return true } }
            ignored = 0
        }
        flows[key] = .ignored
        ignored += 1
    }

    private func open(
        key: FlowKey, client: TcpEndpoint, broker: TcpEndpoint, synchronized: Bool, timestampNs: Int64
    ) throws(CaptureError) -> ImportedConnection {
        let c = ImportedConnection(
            id: nextConnectionId, client: client, broker: broker, synchronized: synchronized, timestampNs: timestampNs,
            reassembly: configuration.reassembly, splitting: configuration.splitting)
        nextConnectionId += 1
        flows[key] = .connection(c)
        statistics.connections += 1
        try writer.append(
            .connectionOpened(
                ConnectionOpenedRecord(
                    time: time(timestampNs), connectionId: c.id, clientAddress: client.description,
                    listenerAddress: broker.description, upstreamAddress: broker.description,
                    nodeId: ConnectionOpenedRecord.bootstrapNodeId, role: "pcap")))
        return c
    }

    private func feed(
        _ c: ImportedConnection, key: FlowKey, segment: TcpSegmentHeader, payload: UnsafeRawBufferPointer, timestampNs: Int64
    ) throws(CaptureError) {
        c.receive(segment, payload: payload, timestampNs: timestampNs)
        if segment.flags.contains(.rst) {
            c.flush(reason: .reset, timestampNs: timestampNs)
            try drain(c)
            try close(c, key: key, by: segment.source == c.client ? .client : .broker, reason: "RST", timestampNs: timestampNs)
            return
        }
        try drain(c)
        if c.bothFinished {
            try close(c, key: key, by: c.firstFin ?? .client, reason: "FIN", timestampNs: timestampNs)
        }
    }

    private func close(
        _ c: ImportedConnection, key: FlowKey, by closer: ConnectionCloser, reason: String, timestampNs: Int64
    ) throws(CaptureError) {
        flows[key] = nil
        if recentlyClosed.count >= 65536 { recentlyClosed.removeAll() }
        recentlyClosed[key] = timestampNs
        collect(c)
        try writer.append(
            .connectionClosed(ConnectionClosedRecord(time: time(timestampNs), connectionId: c.id, closedBy: closer, reason: reason)))
    }

    /// Adds a finished connection's reassembly counters to the totals.
    private func collect(_ c: ImportedConnection) {
        for s in [c.toBroker.statistics, c.toClient.statistics] {
            statistics.duplicateBytes += s.duplicateBytes
            statistics.outOfOrderSegments += s.outOfOrderSegments
        }
    }

    // MARK: - Records

    private func drain(_ c: ImportedConnection) throws(CaptureError) {
        if c.requests.hasEvents {
            try c.requests.drainEvents { (event) throws(CaptureError) in try write(event, of: c, direction: .request) }
        }
        if c.responses.hasEvents {
            try c.responses.drainEvents { (event) throws(CaptureError) in try write(event, of: c, direction: .response) }
        }
    }

    private func write(_ event: KafkaStreamSplitter.Event, of c: ImportedConnection, direction: FrameDirection) throws(CaptureError) {
        let stream = "\(direction) stream"
        switch event {
        case .frame(let payload, let wireLength, let truncated, let t):
            if direction == .request {
                statistics.requests += 1
                if let prefix = KafkaRequestPrefix(payload: payload) {
                    c.responses.expectResponse(correlationId: prefix.correlationId)
                }
            } else {
                statistics.responses += 1
            }
            if truncated { statistics.truncatedFrames += 1 }
            try writer.append(
                .frame(
                    FrameRecord(
                        time: time(t), connectionId: c.id, direction: direction, flags: truncated ? [.truncated] : [],
                        wireLength: wireLength, payload: payload)))
        case .gap(let offset, let length, let reason, let truncatedFrame, let inSync, let t):
            statistics.gaps += 1
            statistics.gapBytes += Int64(length)
            var message = "\(length) bytes missing from the \(stream) at offset \(offset) (\(reason))"
            if truncatedFrame { message += "; the frame in progress was recorded truncated" }
            message += inSync ? "; frame boundaries kept" : "; resynchronising"
            try record(
                .gap, c, t, message,
                [("direction", "\(direction)"), ("offset", "\(offset)"), ("bytes", "\(length)"), ("reason", reason.rawValue)])
        case .skipped(let offset, let bytes, let reason, let found, let t):
            statistics.resyncs += 1
            statistics.skippedBytes += Int64(bytes)
            if found { statistics.resyncsFound += 1 }
            let outcome = found ? "before the first plausible frame boundary" : "without finding a frame boundary"
            try record(
                EventKinds.resync, c, t, "\(stream): skipped \(bytes) bytes at offset \(offset) \(outcome) (\(reason))",
                [("direction", "\(direction)"), ("offset", "\(offset)"), ("skippedBytes", "\(bytes)"),
                 ("reason", reason.rawValue), ("resynchronized", found ? "true" : "false")])
        case .implausibleSize(let offset, let size, let t):
            statistics.implausibleSizes += 1
            try record(
                .malformedFrame, c, t, "\(stream): implausible frame size \(size) at offset \(offset); resynchronising",
                [("direction", "\(direction)"), ("offset", "\(offset)"), ("size", "\(size)")])
        case .incompleteFrame(let offset, let present, let size, let t):
            try record(
                EventKinds.incompleteFrame, c, t,
                "\(stream) ended inside a frame at offset \(offset): \(present) of \(size + 4) bytes present",
                [("direction", "\(direction)"), ("offset", "\(offset)"), ("present", "\(present)"), ("size", "\(size)")])
        }
    }

    private func record(
        _ kind: EventRecord.Kind, _ c: ImportedConnection, _ t: Int64, _ message: String, _ attributes: [(String, String)]
    ) throws(CaptureError) {
        try writer.append(
            .event(
                EventRecord(
                    time: time(t), connectionId: c.id, kind: kind, message: message,
                    attributes: attributes.map { EventRecord.Attribute($0.0, $0.1) })))
    }

    /// A record timestamp: the packet's wall time, and a monotonic time that never goes backwards
    /// (packet clocks can step back; durations in the capture stay non-negative).
    private func time(_ ns: Int64) -> CaptureTimestamp {
        lastMonotonicNs = max(lastMonotonicNs, ns)
        return CaptureTimestamp(monotonicNs: UInt64(max(0, lastMonotonicNs)), wallNs: ns)
    }
}
