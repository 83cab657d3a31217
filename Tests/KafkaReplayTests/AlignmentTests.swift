import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaReplay

@Suite struct AlignmentTests {
    func exchange(_ key: Int16, _ version: Int16 = 0, seq: Int = 0) -> Exchange {
        let frame = FrameRecord(
            time: CaptureTimestamp(monotonicNs: 0, wallNs: 0), connectionId: 1, direction: .request, payload: ByteBuffer())
        return Exchange(
            connectionId: 1, correlationId: Int32(seq), apiKey: key, apiVersion: version, request: frame, response: nil,
            missingResponse: nil, responseOutOfOrder: false, sequence: seq)
    }

    @Test func identicalStreamsPairOneToOne() {
        let a = [exchange(18), exchange(3), exchange(0)]
        #expect(ExchangeAligner.alignRequests(a, a).map { [$0.0, $0.1] } == [[0, 0], [1, 1], [2, 2]])
    }

    @Test func aMissingRequestShowsAsOneSided() {
        let a = [exchange(18), exchange(3), exchange(3), exchange(0), exchange(1)]
        let b = [exchange(18), exchange(3), exchange(0), exchange(1), exchange(1)]
        let pairs = ExchangeAligner.alignRequests(a, b).map { [$0.0, $0.1] }
        #expect(pairs == [[0, 0], [1, 1], [2, nil], [3, 2], [4, 3], [nil, 4]])
    }

    @Test func versionsCount() {
        let pairs = ExchangeAligner.alignRequests([exchange(3, 12)], [exchange(3, 9)])
        #expect(pairs.count == 2)
    }

    @Test func connectionsPairByRoleAndSequence() {
        func conn(_ id: UInt64, node: Int32, _ keys: [Int16]) -> RecordedConnection {
            RecordedConnection(id: id, nodeId: node, exchanges: keys.map { exchange($0) })
        }
        let a = [conn(1, node: -1, [18, 3]), conn(2, node: 1, [18, 10]), conn(3, node: 1, [18, 11, 14])]
        // B opened the group connection before the coordinator lookup one.
        let b = [conn(7, node: -1, [18, 3]), conn(8, node: 1, [18, 11, 14]), conn(9, node: 1, [18, 10]), conn(10, node: 2, [18])]
        let pairs = ExchangeAligner.pairConnections(a, b).map { [$0.0, $0.1] }
        #expect(pairs == [[0, 0], [1, 2], [2, 1], [nil, 3]])
    }
}
