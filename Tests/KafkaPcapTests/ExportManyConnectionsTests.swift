import Foundation
import KafkaCapture
import KafkaPcap
import NIOCore
import Testing
@testable import KafkaTapeTestSupport

/// `pcap export` when one address pair has more connections than there are client ports: every flow
/// still gets a 4-tuple of its own (further loopback addresses), and the export ends.
@Suite struct ExportManyConnectionsTests {
    @Test func hundredThousandConnectionsOnOneAddressPairGetDistinctFourTuples() throws {
        let connections = 100_000
        try withTemporaryDirectory { dir in
            let capture = dir + "/many.ktape"
            let pcap = dir + "/many.pcap"
            // Every connection recorded with the same client and listener address: each needs a fallback.
            let writer = try CaptureWriter(
                path: capture,
                header: CaptureHeader(
                    toolVersion: "test", startTime: CaptureTimestamp(monotonicNs: 0, wallNs: 0), listenAddress: "127.0.0.1:9092",
                    upstreamAddress: "127.0.0.1:9093"))
            for id in 0..<UInt64(connections) {
                let t = CaptureTimestamp(monotonicNs: id, wallNs: Int64(id))
                try writer.append(
                    .connectionOpened(
                        ConnectionOpenedRecord(
                            time: t, connectionId: id, clientAddress: "127.0.0.1:50000", listenerAddress: "127.0.0.1:9092",
                            upstreamAddress: "127.0.0.1:9093", nodeId: -1, role: "proxy")))
                try writer.append(.connectionClosed(ConnectionClosedRecord(time: t, connectionId: id, closedBy: .client, reason: "EOF")))
            }
            try writer.close()

            let report = try PcapExport.run(capture: capture, output: pcap)
            #expect(report.statistics.flows == connections)

            let reader = try PcapFileReader(path: pcap)
            let decoder = PacketDecoder(linkType: reader.linkType)
            var tuples = Set<String>()
            var clientAddresses = Set<IPAddress>()
            var syns = 0
            while let packet = try reader.next() {
                guard case .tcp(let h) = decoder.decode(packet.data), h.flags == .syn else { continue }
                syns += 1
                tuples.insert("\(h.source)-\(h.destination)")
                clientAddresses.insert(h.source.address)
                #expect(h.source.address.description.hasPrefix("127."))
            }
            #expect(syns == connections)
            #expect(tuples.count == connections, "every connection has a 4-tuple of its own")
            // The first connection keeps its recorded endpoint; the other 99,999 take fallbacks, 25,001
            // client ports per address: four addresses.
            #expect(clientAddresses.count == (connections - 1 + 25_000) / 25_001)
            #expect(clientAddresses.count == 4)
        }
    }
}
