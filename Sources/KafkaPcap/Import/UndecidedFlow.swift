/// A flow not yet known to be Kafka: a few of its packets are held until its first request shows.
final class UndecidedFlow {
    struct Held {
        var segment: TcpSegmentHeader
        var payload: [UInt8]
        var timestampNs: Int64
    }

    enum Decision {
        case undecided
        case notKafka
        case kafka(client: TcpEndpoint)
    }

    /// The client, when a SYN or SYN-ACK showed it.
    var client: TcpEndpoint?
    /// Both ends are on broker ports: Kafka for sure, only the broker side is unknown.
    let onBrokerPorts: Bool
    var held: [Held] = []
    var heldBytes = 0
    var firstTimestampNs: Int64 = 0
    var sawSyn = false
    /// The first payload bytes from the SYN's sender, to check the first request.
    private var clientPrefix: [UInt8] = []
    private var firstTalker: TcpEndpoint?

    static let maxHeldPackets = 32
    static let maxHeldBytes = 64 << 10
    /// Packets seen mid-stream without a plausible request before the flow is taken for something else.
    static let maxUndecidedPackets = 512
    private var seen = 0

    init(client: TcpEndpoint?, onBrokerPorts: Bool) {
        self.client = client
        self.onBrokerPorts = onBrokerPorts
    }

    func hold(_ segment: TcpSegmentHeader, payload: UnsafeRawBufferPointer, timestampNs: Int64) {
        if held.isEmpty { firstTimestampNs = timestampNs }
        if segment.flags.contains(.syn) { sawSyn = true }
        var s = segment
        s.payloadRange = 0..<payload.count
        held.append(Held(segment: s, payload: Array(payload), timestampNs: timestampNs))
        heldBytes += payload.count
        // Joined mid-way, the oldest packets are the least useful: the stream resynchronises anyway.
        while !sawSyn, held.count > 1, held.count > Self.maxHeldPackets || heldBytes > Self.maxHeldBytes {
            heldBytes -= held.removeFirst().payload.count
            firstTimestampNs = held.first?.timestampNs ?? timestampNs
        }
    }

    func decide(from source: TcpEndpoint, payload: UnsafeRawBufferPointer) -> Decision {
        seen += 1
        if let client {
            // Kafka clients speak first; a server that greets is some other protocol.
            if source != client, !payload.isEmpty, clientPrefix.isEmpty, !onBrokerPorts { return .notKafka }
            guard source == client, !payload.isEmpty, clientPrefix.count < 14 else {
                return sawSyn && (held.count > Self.maxHeldPackets || heldBytes > Self.maxHeldBytes) ? .notKafka : .undecided
            }
            clientPrefix.append(contentsOf: payload.prefix(14 - clientPrefix.count))
            guard clientPrefix.count >= 14 else { return .undecided }
            let looksLikeKafka = clientPrefix.withUnsafeBytes { KafkaFrameHeuristics.startsWithRequest($0) }
            return looksLikeKafka || onBrokerPorts ? .kafka(client: client) : .notKafka
        }
        guard !payload.isEmpty else { return .undecided }
        if KafkaFrameHeuristics.startsWithRequest(payload) { return .kafka(client: source) }
        if seen > Self.maxUndecidedPackets && !onBrokerPorts { return .notKafka }
        if onBrokerPorts {
            // Both ends on broker ports, joined mid-way: the side that answers is the broker.
            if let firstTalker, firstTalker != source { return .kafka(client: firstTalker) }
            if firstTalker == nil { firstTalker = source }
        }
        return .undecided
    }
}
