import Foundation
import KafkaCapture
import KafkaPcap
import NIOCore
import Testing
@testable import KafkaTapeTestSupport

/// `pcap export` checked by tshark and by our own import, on real client frames; import of every
/// supported link type, IPv6, VLAN tags and pcapng.
@Suite struct ExportImportTests {
    static let sessions = ["kafka-python-produce-consume", "kafka-python-group", "librdkafka-zstd", "librdkafka-idempotent-group"]

    func export(_ records: [CaptureRecord], in dir: String, name: String = "cap") throws -> (capture: String, pcap: String, report: PcapExportReport) {
        let capture = "\(dir)/\(name).ktape"
        let pcap = "\(dir)/\(name).pcap"
        try writeCapture(records, to: capture)
        let report = try PcapExport.run(capture: capture, output: pcap)
        return (capture, pcap, report)
    }

    func importFile(_ pcap: String, in dir: String, ports: Set<UInt16> = [], name: String = "imported") throws -> ([CaptureRecord], PcapImportReport) {
        let out = "\(dir)/\(name).ktape"
        let report = try PcapImport.run(input: pcap, output: out, options: PcapImportOptions(brokerPorts: ports))
        return (try readCapture(out), report)
    }

    @Test(arguments: sessions)
    func exportThenImportGivesTheSameExchanges(session: String) throws {
        let records = captureRecords(from: try goldenSession(session))
        try withTemporaryDirectory { dir in
            let (_, pcap, report) = try export(records, in: dir)
            #expect(report.statistics.flows == Set(records.compactMap(\.connectionId)).count)
            let (imported, importReport) = try importFile(pcap, in: dir, ports: [19092])
            #expect(importReport.statistics.gaps == 0 && importReport.statistics.skippedBytes == 0)
            #expect(exchangeFingerprints(imported) == exchangeFingerprints(records))
            // Connections keep their recorded addresses.
            let addresses = { (rs: [CaptureRecord]) in rs.compactMap { r -> String? in
                if case .connectionOpened(let o) = r { return "\(o.clientAddress)->\(o.listenerAddress)" }
                return nil
            } }
            #expect(addresses(imported) == addresses(records))
        }
    }

    /// What tshark's Kafka dissector sees in an export: every request, in order, per connection,
    /// and nothing wrong at the TCP level (checksums verified too).
    @Test(.enabled(if: Repo.tshark != nil, "needs tshark"), arguments: sessions)
    func tsharkSeesEveryRequestAndNoTcpProblem(session: String) async throws {
        let records = captureRecords(from: try goldenSession(session))
        try await withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            let seen = try await tsharkRequests(pcap, ports: [19092])
            #expect(seen == captureRequests(records))
            #expect(try await tsharkTcpProblems(pcap) == [])
            let tshark = try #require(Repo.tshark)
            let checksums = try await Harness.runAsync(tshark, [
                "-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
                "-Y", "tcp.checksum.status != 1 || ip.checksum.status != 1",
            ], timeout: tsharkTimeout)
            #expect(checksums.stdout.isEmpty, "bad checksums: \(checksums.stdout.prefix(300))")
        }
    }

    /// Segments never exceed the MSS, sequence and acknowledgement numbers run on without holes,
    /// each flow opens with SYN/SYN-ACK/ACK and ends with FINs both ways, timestamps never go back.
    @Test func exportedFlowsAreWellFormedTcp() throws {
        var records = captureRecords(from: try goldenSession("librdkafka-zstd"))
        // A 300 kB request: many segments, ACKs inside it so the window is never exceeded.
        let big = ByteBuffer(bytes: Array(requestFrame(apiKey: 0, version: 9, correlationId: 99, body: Array(repeating: 7, count: 300_000))[4...]))
        if let at = records.firstIndex(where: { if case .connectionClosed = $0 { return true } else { return false } }) {
            records.insert(.frame(FrameRecord(time: records[at - 1].time, connectionId: 1, direction: .request, payload: big)), at: at)
        }
        try withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            let reader = try PcapFileReader(path: pcap)
            let decoder = PacketDecoder(linkType: reader.linkType)
            // Keyed by direction: "source>destination".
            var next: [String: UInt32] = [:]
            var flags: [String: [TcpFlags]] = [:]
            var lastTime: Int64 = 0
            var maxPayload = 0
            var unacked: [String: Int] = [:]
            var maxUnacked = 0
            while let p = try reader.next() {
                #expect(p.timestampNs >= lastTime)
                lastTime = p.timestampNs
                guard case .tcp(let s) = decoder.decode(p.data) else {
                    Issue.record("not TCP")
                    continue
                }
                let way = "\(s.source)>\(s.destination)"
                let back = "\(s.destination)>\(s.source)"
                flags[way, default: []].append(s.flags)
                maxPayload = max(maxPayload, s.payloadLength)
                if let expected = next[way] {
                    #expect(s.sequenceNumber == expected, "sequence jump on \(way)")
                }
                var advance = UInt32(s.payloadLength)
                if s.flags.contains(.syn) || s.flags.contains(.fin) { advance += 1 }
                next[way] = s.sequenceNumber &+ advance
                if s.flags.contains(.ack), let peerNext = next[back] {
                    #expect(s.acknowledgmentNumber == peerNext, "ack on \(way) does not match what the peer sent")
                }
                unacked[way, default: 0] += s.payloadLength
                unacked[back] = 0
                maxUnacked = max(maxUnacked, unacked[way] ?? 0)
            }
            #expect(maxPayload <= 1460)
            #expect(maxUnacked < 65535)
            for (endpoint, f) in flags {
                #expect(f.first?.contains(.syn) == true, "\(endpoint) does not start with SYN")
                #expect(f.contains { $0.contains(.fin) }, "\(endpoint) never sends FIN")
            }
        }
    }

    @Test(.enabled(if: Repo.tshark != nil, "needs tshark"))
    func ipv6CapturesExportAndImport() async throws {
        let records = captureRecords(from: try goldenSession("kafka-python-group"), ipv6: true)
        try await withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            #expect(try await tsharkRequests(pcap, ports: [19092]) == captureRequests(records))
            #expect(try await tsharkTcpProblems(pcap) == [])
            let (imported, _) = try importFile(pcap, in: dir)
            #expect(exchangeFingerprints(imported) == exchangeFingerprints(records))
        }
    }

    /// The same traffic in every link type the importer reads (rewritten from the Ethernet export
    /// through libpcap's writer), IPv4 and IPv6, imports to the same exchanges.
    @Test(arguments: [false, true])
    func everyLinkTypeImportsTheSame(ipv6: Bool) throws {
        let records = captureRecords(from: try goldenSession("librdkafka-idempotent-group"), ipv6: ipv6)
        let expected = exchangeFingerprints(records)
        try withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            let family: UInt32 = ipv6 ? 30 : 2
            let variants: [(String, PcapLinkType, ([UInt8]) -> [UInt8])] = [
                ("vlan", .ethernet, { Array($0[0..<12]) + [0x81, 0x00, 0x00, 0x2A] + Array($0[12...]) }),
                ("qinq", .ethernet, { Array($0[0..<12]) + [0x88, 0xA8, 0x00, 0x01, 0x81, 0x00, 0x00, 0x2A] + Array($0[12...]) }),
                ("sll", .linuxSLL, { [0, 4, 0, 1, 0, 6] + Array($0[6..<12]) + [0, 0] + Array($0[12..<14]) + Array($0[14...]) }),
                ("sll2", .linuxSLL2, { Array($0[12..<14]) + [0, 0, 0, 0, 0, 1, 0, 1, 4, 6] + Array($0[6..<12]) + [0, 0] + Array($0[14...]) }),
                ("null-le", .null, { withUnsafeBytes(of: family.littleEndian) { Array($0) } + Array($0[14...]) }),
                ("null-be", .null, { withUnsafeBytes(of: family.bigEndian) { Array($0) } + Array($0[14...]) }),
                ("loop", .loop, { withUnsafeBytes(of: family.bigEndian) { Array($0) } + Array($0[14...]) }),
                ("raw", .raw, { Array($0[14...]) }),
                (ipv6 ? "ipv6" : "ipv4", ipv6 ? .ipv6 : .ipv4, { Array($0[14...]) }),
            ]
            for (name, type, transform) in variants {
                let out = "\(dir)/\(name).pcap"
                let reader = try PcapFileReader(path: pcap)
                let writer = try PcapFileWriter(path: out, linkType: type)
                while let p = try reader.next() {
                    writer.write(timestampNs: p.timestampNs, bytes: transform(Array(p.data)))
                }
                try writer.close()
                let (imported, report) = try importFile(out, in: dir, ports: [19092], name: name)
                #expect(report.linkType == (type == .raw ? .raw : type), "\(name)")
                #expect(exchangeFingerprints(imported) == expected, "\(name)")
            }
        }
    }

    @Test(.enabled(if: Repo.editcap != nil, "needs editcap"))
    func pcapngImportsTheSame() async throws {
        let records = captureRecords(from: try goldenSession("kafka-python-produce-consume"))
        try await withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            let ng = "\(dir)/cap.pcapng"
            let r = try await Harness.runAsync(try #require(Repo.editcap), ["-F", "pcapng", pcap, ng])
            #expect(r.status == 0, "\(r.stderr)")
            let (imported, _) = try importFile(ng, in: dir)
            #expect(exchangeFingerprints(imported) == exchangeFingerprints(records))
        }
    }

    /// The export with its first packets dropped: the first connection is joined mid-way. The
    /// importer resynchronises, says how many bytes it skipped, and everything it keeps is exact.
    @Test(arguments: [4, 5, 6, 7, 8, 9])
    func exportJoinedMidConnectionResynchronises(dropped: Int) throws {
        let frames = try goldenSession("kafka-python-produce-consume")
        let records = captureRecords(from: frames)
        try withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            let cut = "\(dir)/cut.pcap"
            let reader = try PcapFileReader(path: pcap)
            let writer = try PcapFileWriter(path: cut)
            var n = 0
            while let p = try reader.next() {
                n += 1
                if n > dropped { writer.write(timestampNs: p.timestampNs, bytes: p.data) }
            }
            try writer.close()
            let (imported, report) = try importFile(cut, in: dir, ports: [19092])
            let original = exchangeFingerprints(records)
            let got = exchangeFingerprints(imported)
            // Every exchange kept is one of the original ones, byte for byte.
            let originalPairs = Set(original.map { [$0.request, $0.response ?? []] })
            let invented = got.filter { $0.response != nil && !originalPairs.contains([$0.request, $0.response ?? []]) }
            #expect(invented.isEmpty, "invented: \(invented)")
            // Connections after the first are untouched; the first loses only its start.
            let first = original.filter { $0.connectionIndex == 0 }
            let firstGot = got.filter { $0.connectionIndex == 0 && $0.response != nil }
            #expect(firstGot.map(\.correlationId) == Array(first.map(\.correlationId).suffix(firstGot.count)))
            // Up to 7 packets dropped, the second request of the first connection is still whole.
            #expect(!firstGot.isEmpty || dropped > 7)
            #expect(got.filter { $0.connectionIndex > 0 } == original.filter { $0.connectionIndex > 0 })
            let resync = events(imported, kind: KafkaPcapImporter.EventKinds.resync)
            #expect(!resync.isEmpty)
            #expect(report.statistics.skippedBytes == resync.reduce(Int64(0)) { $0 + (Int64($1[attribute: "skippedBytes"] ?? "") ?? 0) })
        }
    }

    @Test func redactedFramesAreExportedWithTheirPayloadLength() throws {
        var records = captureRecords(from: try goldenSession("kafka-python-produce-consume"))
        // A redacted SASL frame: the marker is shorter than what was on the wire.
        let marker = ByteBuffer(bytes: Array(requestFrame(apiKey: 36, version: 2, correlationId: 42, body: Array("<redacted>".utf8))[4...]))
        let at = try #require(records.firstIndex { if case .connectionClosed(let c) = $0 { return c.connectionId == 1 } else { return false } })
        records.insert(
            .frame(FrameRecord(time: records[at - 1].time, connectionId: 1, direction: .request, flags: .redacted, wireLength: 4096, payload: marker)), at: at)
        try withTemporaryDirectory { dir in
            let (_, pcap, _) = try export(records, in: dir)
            let (imported, report) = try importFile(pcap, in: dir, ports: [19092])
            #expect(report.statistics.gaps == 0 && report.statistics.skippedBytes == 0)
            let found = framePayloads(imported, .request).contains(Array(marker.readableBytesView))
            #expect(found)
        }
    }
}
