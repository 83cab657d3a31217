import KafkaCapture
import NIOCore

/// One Kafka connection being imported: a reassembler and a frame splitter per direction.
final class ImportedConnection {
    let id: UInt64
    let client: TcpEndpoint
    let broker: TcpEndpoint
    var toBroker: TcpReassembler
    var toClient: TcpReassembler
    var requests: KafkaStreamSplitter
    var responses: KafkaStreamSplitter
    /// The client's initial sequence number, when its SYN was seen (to tell a new connection on
    /// the same ports from a retransmitted SYN).
    var clientISN: UInt32?
    /// Who sent the first FIN.
    var firstFin: ConnectionCloser?
    var lastPacketNs: Int64
    var requestsFinished = false
    var responsesFinished = false
    /// Whether the connection has carried data or a FIN (a SYN on it then starts a new connection).
    var active = false

    init(
        id: UInt64, client: TcpEndpoint, broker: TcpEndpoint, synchronized: Bool, timestampNs: Int64,
        reassembly: TcpReassembler.Configuration, splitting: KafkaStreamSplitter.Configuration
    ) {
        self.id = id
        self.client = client
        self.broker = broker
        self.toBroker = TcpReassembler(configuration: reassembly)
        self.toClient = TcpReassembler(configuration: reassembly)
        self.requests = KafkaStreamSplitter(role: .requests, synchronized: synchronized, configuration: splitting)
        self.responses = KafkaStreamSplitter(role: .responses, synchronized: synchronized, configuration: splitting)
        self.lastPacketNs = timestampNs
    }

    /// Feeds one segment of this connection.
    func receive(_ segment: TcpSegmentHeader, payload: UnsafeRawBufferPointer, timestampNs: Int64) {
        lastPacketNs = max(lastPacketNs, timestampNs)
        let fromClient = segment.source == client
        let flags = segment.flags
        let fin = flags.contains(.fin)
        if fin || segment.payloadLength > 0 { active = true }
        if fromClient {
            if flags.contains(.syn) {
                toBroker.synchronize(initialSequenceNumber: segment.sequenceNumber)
                if clientISN == nil { clientISN = segment.sequenceNumber }
            }
            if flags.contains(.ack) { toClient.acknowledge(segment.acknowledgmentNumber, timestampNs: timestampNs) }
            // The client answers after consuming what the broker sent: holes it acknowledged are lost.
            if segment.payloadLength > 0 { toClient.resolveAcknowledged(timestampNs: timestampNs, into: &responses) }
            let seq = flags.contains(.syn) ? segment.sequenceNumber &+ 1 : segment.sequenceNumber
            toBroker.receive(
                sequenceNumber: seq, payload: payload, missingBytes: segment.missingPayloadBytes, fin: fin,
                timestampNs: timestampNs, into: &requests)
            if fin && firstFin == nil { firstFin = .client }
        } else {
            if flags.contains(.syn) { toClient.synchronize(initialSequenceNumber: segment.sequenceNumber) }
            if flags.contains(.ack) { toBroker.acknowledge(segment.acknowledgmentNumber, timestampNs: timestampNs) }
            // The broker answers after consuming the request: holes it acknowledged are lost, and
            // recording them first keeps a truncated request ahead of its response.
            if segment.payloadLength > 0 { toBroker.resolveAcknowledged(timestampNs: timestampNs, into: &requests) }
            let seq = flags.contains(.syn) ? segment.sequenceNumber &+ 1 : segment.sequenceNumber
            toClient.receive(
                sequenceNumber: seq, payload: payload, missingBytes: segment.missingPayloadBytes, fin: fin,
                timestampNs: timestampNs, into: &responses)
            if fin && firstFin == nil { firstFin = .broker }
        }
        toBroker.expire(now: timestampNs, into: &requests)
        toClient.expire(now: timestampNs, into: &responses)
        if toBroker.isFinished && !requestsFinished {
            requestsFinished = true
            requests.finish(timestampNs: timestampNs)
        }
        if toClient.isFinished && !responsesFinished {
            responsesFinished = true
            responses.finish(timestampNs: timestampNs)
        }
    }

    /// Ends both streams: holes become gaps, frames in progress are emitted truncated.
    func flush(reason: TcpGapReason, timestampNs: Int64) {
        if !requestsFinished {
            toBroker.flush(reason: reason, timestampNs: timestampNs, into: &requests)
            requests.finish(timestampNs: timestampNs)
            requestsFinished = true
        }
        if !responsesFinished {
            toClient.flush(reason: reason, timestampNs: timestampNs, into: &responses)
            responses.finish(timestampNs: timestampNs)
            responsesFinished = true
        }
    }

    /// Both directions ended with a FIN.
    var bothFinished: Bool { requestsFinished && responsesFinished }
}
