import KafkaCapture
import KafkaPcap
import NIOCore
import Testing

/// Whole connections of crafted packets through the importer: link decoding, flow tracking, which
/// side is the broker, reassembly, splitting and the records written.
@Suite struct PcapImporterTests {
    /// A Kafka conversation: requests and their responses, alternating.
    func conversation(_ n: Int, bodySize: Int = 900, firstId: Int32 = 1) -> [(request: [UInt8], response: [UInt8])] {
        (0..<n).map { i in
            let id = firstId + Int32(i)
            return (
                requestFrame(apiKey: 3, version: 1, correlationId: id, body: Array(repeating: UInt8(i & 0xFF), count: bodySize)),
                responseFrame(correlationId: id, body: Array(repeating: UInt8(0x80 | i & 0x7F), count: bodySize * 2))
            )
        }
    }

    /// Packets of one connection: handshake, each exchange segmented with `sizes`, close.
    func packets(_ c: inout CraftedConnection, _ exchanges: [(request: [UInt8], response: [UInt8])], sizes: [Int] = [1460], handshake: Bool = true, close: Bool = true) -> [CraftedPacket] {
        var out = handshake ? c.handshake() : []
        for e in exchanges {
            out += c.send(fromClient: true, e.request, sizes: sizes)
            out.append(c.ack(fromClient: false))
            out += c.send(fromClient: false, e.response, sizes: sizes)
            out.append(c.ack(fromClient: true))
        }
        if close { out += c.close() }
        return out
    }

    func payloads(_ frames: [[UInt8]]) -> [[UInt8]] { frames.map { Array($0[4...]) } }

    @Test func oneConnectionBecomesOpenFramesClose() throws {
        var c = CraftedConnection()
        let ex = conversation(5)
        let (records, stats) = try importPackets(packets(&c, ex))
        guard case .connectionOpened(let o)? = records.first else {
            Issue.record("first record is not a connection open")
            return
        }
        #expect(o.clientAddress == "10.1.0.5:50123")
        #expect(o.listenerAddress == "10.1.0.9:9092")
        #expect(o.role == "pcap")
        #expect(digest(framePayloads(records, .request)) == digest(payloads(ex.map(\.request))))
        #expect(digest(framePayloads(records, .response)) == digest(payloads(ex.map(\.response))))
        guard case .connectionClosed(let closed)? = records.last else {
            Issue.record("last record is not a close")
            return
        }
        #expect(closed.closedBy == .client)
        #expect(stats.connections == 1 && stats.requests == 5 && stats.responses == 5 && stats.gaps == 0)
        // Pairing works on the result as on a proxy capture.
        let exchanges = ExchangeTracker.pair(records).compactMap { e -> Exchange? in
            if case .exchange(let x) = e { return x }
            return nil
        }
        #expect(exchanges.map(\.correlationId) == [1, 2, 3, 4, 5])
        #expect(exchanges.allSatisfy { $0.response != nil })
    }

    @Test(arguments: 0..<10)
    func interleavedConnectionsReorderedAndRetransmitted(seed: Int) throws {
        var rng = SeededGenerator(seed: UInt64(seed))
        var conns = (0..<3).map { CraftedConnection(client: "10.1.0.\(5 + $0):\(50000 + $0)", clientISN: UInt32.max - 3000 + UInt32($0)) }
        let exchanges = (0..<3).map { conversation(4, bodySize: 700 + 300 * $0, firstId: Int32(100 * $0)) }
        var perConnection = (0..<3).map { i in packets(&conns[i], exchanges[i], sizes: [1, 13, 500, 1460, 7]) }
        // Reorder consecutive segments of one sender and retransmit some, as a network does (a
        // capture point never sees an ACK before the data it acknowledges).
        for i in 0..<3 {
            var p = perConnection[i]
            var j = 3
            while j + 2 < p.count - 3 {
                if sender(p[j]) == sender(p[j + 1]), Bool.random(using: &rng) { p.swapAt(j, j + 1) }
                if Int.random(in: 0..<6, using: &rng) == 0 { p.insert(p[j], at: j + 2) }
                j += 2
            }
            perConnection[i] = p
        }
        // Interleave the three connections.
        var merged: [CraftedPacket] = []
        var cursors = [0, 0, 0]
        while cursors.enumerated().contains(where: { $0.element < perConnection[$0.offset].count }) {
            let i = Int.random(in: 0..<3, using: &rng)
            guard cursors[i] < perConnection[i].count else { continue }
            merged.append(perConnection[i][cursors[i]])
            cursors[i] += 1
        }
        let (records, stats) = try importPackets(merged)
        #expect(stats.connections == 3)
        #expect(stats.gaps == 0)
        #expect(stats.skippedBytes == 0)
        for i in 0..<3 {
            let id = UInt64(i + 1)
            let opened = records.compactMap { r -> ConnectionOpenedRecord? in
                if case .connectionOpened(let o) = r, o.connectionId == id { return o }
                return nil
            }
            guard let o = opened.first, let k = conns.firstIndex(where: { $0.client.description == o.clientAddress }) else {
                Issue.record("connection \(id) missing")
                continue
            }
            #expect(digest(framePayloads(records, .request, connection: id)) == digest(payloads(exchanges[k].map(\.request))))
            #expect(digest(framePayloads(records, .response, connection: id)) == digest(payloads(exchanges[k].map(\.response))))
        }
        #expect(records.filter { if case .connectionClosed = $0 { return true } else { return false } }.count == 3)
    }

    /// A capture that starts mid-connection: no handshake, the first packet in the middle of a
    /// request. The importer says how many bytes it skipped and keeps every whole exchange after.
    @Test func midConnectionStartResynchronisesAndSaysHowManyBytesWereSkipped() throws {
        var c = CraftedConnection()
        let ex = conversation(6, bodySize: 3000)
        let all = packets(&c, ex, sizes: [1000], close: false)
        // Drop the handshake and the first 2 of the 4 segments of the first request.
        let (records, stats) = try importPackets(Array(all[5...]))
        let requestFrameBytes = ex[0].request.count
        let skipped = events(records, kind: KafkaPcapImporter.EventKinds.resync)
        let requestSkip = skipped.first { $0[attribute: "direction"] == "request" }
        #expect(requestSkip?[attribute: "skippedBytes"] == String(requestFrameBytes - 2000))
        #expect(requestSkip?[attribute: "resynchronized"] == "true")
        #expect(digest(framePayloads(records, .request)) == digest(payloads(ex[1...].map(\.request))))
        // The first response answers a request the capture lost: skipped, then in sync on #2.
        #expect(digest(framePayloads(records, .response)) == digest(payloads(ex[1...].map(\.response))))
        #expect(stats.skippedBytes == Int64(requestFrameBytes - 2000 + ex[0].response.count))
        #expect(stats.gaps == 0)
    }

    /// Packets the capture dropped: the receiver's ACK shows the bytes existed. The importer records
    /// a gap, keeps the truncated frame's header, resynchronises, and never invents bytes.
    @Test func droppedPacketsBecomeGapEvents() throws {
        var c = CraftedConnection()
        let ex = conversation(5, bodySize: 2500)
        var all = c.handshake()
        var dropped: [CraftedPacket] = []
        for (i, e) in ex.enumerated() {
            var req = c.send(fromClient: true, e.request, sizes: [1000])
            if i == 2 { dropped.append(req.remove(at: 1)) }  // the middle of request #3 is lost
            all += req
            all.append(c.ack(fromClient: false))
            all += c.send(fromClient: false, e.response, sizes: [1000])
            all.append(c.ack(fromClient: true))
        }
        all += c.close()
        let (records, stats) = try importPackets(all)
        #expect(stats.gaps == 1)
        #expect(stats.gapBytes == 1000)
        let gap = events(records, kind: .gap).first
        #expect(gap?[attribute: "direction"] == "request")
        #expect(gap?[attribute: "bytes"] == "1000")
        #expect(gap?[attribute: "reason"] == TcpGapReason.acknowledgedNotCaptured.rawValue)
        // Whole frames are exactly what was sent; request #3 is kept truncated (header intact).
        let whole = records.compactMap { r -> [UInt8]? in
            guard case .frame(let f) = r, f.direction == .request, !f.flags.contains(.truncated) else { return nil }
            return Array(f.payload.readableBytesView)
        }
        #expect(digest(whole) == digest(payloads([ex[0].request, ex[1].request, ex[3].request, ex[4].request])))
        let truncated = records.compactMap { r -> FrameRecord? in
            guard case .frame(let f) = r, f.flags.contains(.truncated) else { return nil }
            return f
        }
        #expect(truncated.count == 1)
        #expect(truncated.first.map { digest(Array($0.payload.readableBytesView)) } == digest(Array(ex[2].request[4..<1000])))
        #expect(truncated.first?.wireLength == UInt32(ex[2].request.count - 4))
        #expect(digest(framePayloads(records, .response)) == digest(payloads(ex.map(\.response))))
    }

    @Test func brokerSideFromThePortListFromTheSynOrFromWhoAnswers() throws {
        // Broker on a port in the list, client's port not: the port decides even mid-stream.
        var a = CraftedConnection(client: "10.0.0.1:40000", broker: "10.0.0.2:7777")
        let ex = conversation(2)
        let midStream = Array(packets(&a, ex, close: false).dropFirst(3))
        let byPort = try importPackets(midStream, configuration: .init(brokerPorts: [7777], detectBrokerPorts: false))
        #expect(byPort.statistics.requests == 2)
        #expect(openRecord(byPort.records)?.listenerAddress == "10.0.0.2:7777")

        // Both ports in the list: the SYN says who is the client.
        var b = CraftedConnection(client: "10.0.0.1:7001", broker: "10.0.0.2:7002")
        let bySyn = try importPackets(packets(&b, ex), configuration: .init(brokerPorts: [7001, 7002], detectBrokerPorts: false))
        #expect(openRecord(bySyn.records)?.listenerAddress == "10.0.0.2:7002")
        #expect(bySyn.statistics.requests == 2 && bySyn.statistics.responses == 2)

        // Both in the list, no SYN, traffic that does not parse as requests: the side that answers is the broker.
        var d = CraftedConnection(client: "10.0.0.1:7001", broker: "10.0.0.2:7002")
        let opaque = d.send(fromClient: true, Array(repeating: 0xEE, count: 50)) + d.send(fromClient: false, Array(repeating: 0xDD, count: 50))
        let byAnswer = try importPackets(opaque, configuration: .init(brokerPorts: [7001, 7002], detectBrokerPorts: false))
        #expect(openRecord(byAnswer.records)?.listenerAddress == "10.0.0.2:7002")

        // No port given: Kafka-looking requests reveal the broker port.
        var e = CraftedConnection(client: "10.0.0.1:40001", broker: "10.0.0.2:29092")
        let detected = try importPackets(packets(&e, ex))
        #expect(detected.statistics.detectedBrokerPorts == [29092])
        #expect(detected.statistics.requests == 2)
        #expect(openRecord(detected.records)?.listenerAddress == "10.0.0.2:29092")
    }

    @Test func nonKafkaFlowsAreIgnored() throws {
        var http = CraftedConnection(client: "10.0.0.1:40000", broker: "10.0.0.2:8080")
        var p = http.handshake()
        p += http.send(fromClient: true, Array("GET / HTTP/1.1\r\nHost: example\r\n\r\n".utf8))
        p += http.send(fromClient: false, Array("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".utf8))
        p += http.close()
        let (records, stats) = try importPackets(p)
        #expect(records.isEmpty)
        #expect(stats.ignoredFlows == 1)
        #expect(stats.connections == 0)
    }

    @Test func resetClosesTheConnectionAndAnOutstandingRequestStaysUnanswered() throws {
        var c = CraftedConnection()
        var p = c.handshake()
        p += c.send(fromClient: true, requestFrame(correlationId: 1))
        p.append(c.packet(fromClient: false, seq: c.brokerSeq, ack: c.clientSeq, flags: [.rst, .ack]))
        let (records, _) = try importPackets(p)
        guard case .connectionClosed(let closed)? = records.last else {
            Issue.record("no close record")
            return
        }
        #expect(closed.closedBy == .broker)
        #expect(closed.reason == "RST")
        let exchanges = ExchangeTracker.pair(records)
        guard case .exchange(let e)? = exchanges.first else {
            Issue.record("no exchange")
            return
        }
        #expect(e.missingResponse == .connectionClosed)
    }

    @Test func aNewSynOnTheSamePortsStartsANewConnection() throws {
        var first = CraftedConnection(clientISN: 100)
        var second = CraftedConnection(clientISN: 900_000)
        let p = packets(&first, conversation(1), close: false) + packets(&second, conversation(2, firstId: 50))
        let (records, stats) = try importPackets(p)
        #expect(stats.connections == 2)
        #expect(framePayloads(records, .request, connection: 1).count == 1)
        #expect(framePayloads(records, .request, connection: 2).count == 2)
    }

    @Test func snapshotLengthCutPacketsKeepFrameHeadersAndRecordGaps() throws {
        var c = CraftedConnection()
        let ex = conversation(3, bodySize: 3000)
        // Cut every packet to 200 bytes, as `tcpdump -s 200` would.
        let cut = packets(&c, ex, sizes: [1460]).map { CraftedPacket(timestampNs: $0.timestampNs, bytes: Array($0.bytes.prefix(200))) }
        let storage = try importPackets(cut)
        // Every request keeps its header (truncated frames), nothing whole is invented.
        let frames = storage.records.compactMap { r -> FrameRecord? in
            if case .frame(let f) = r { return f }
            return nil
        }
        #expect(frames.allSatisfy { $0.flags.contains(.truncated) })
        #expect(frames.filter { $0.direction == .request }.count == 3)
        #expect(storage.statistics.gaps > 0)
    }

    /// The source port of a crafted packet (Ethernet + IPv4 + TCP).
    func sender(_ p: CraftedPacket) -> UInt16 { UInt16(p.bytes[34]) << 8 | UInt16(p.bytes[35]) }

    func openRecord(_ records: [CaptureRecord]) -> ConnectionOpenedRecord? {
        for case .connectionOpened(let o) in records { return o }
        return nil
    }
}

extension PcapImporterTests {
    /// A server that speaks first (SMTP, SSH banners) is not Kafka: the flow is dropped at once.
    @Test func aServerThatGreetsFirstIsNotKafka() throws {
        var ssh = CraftedConnection(client: "10.0.0.1:40000", broker: "10.0.0.2:2222")
        var p = ssh.handshake()
        p += ssh.send(fromClient: false, Array("SSH-2.0-OpenSSH_9.2\r\n".utf8))
        p += ssh.send(fromClient: true, Array("SSH-2.0-client\r\n".utf8))
        let (records, stats) = try importPackets(p)
        #expect(records.isEmpty)
        #expect(stats.ignoredFlows == 1)
    }

    /// 1-byte segments, each sent twice, for a whole connection.
    @Test func oneByteSegmentsEachRetransmitted() throws {
        var c = CraftedConnection()
        let ex = conversation(3, bodySize: 60)
        let all = packets(&c, ex, sizes: [1])
        var doubled: [CraftedPacket] = []
        for p in all { doubled += [p, p] }
        let (records, stats) = try importPackets(doubled)
        #expect(digest(framePayloads(records, .request)) == digest(payloads(ex.map(\.request))))
        #expect(digest(framePayloads(records, .response)) == digest(payloads(ex.map(\.response))))
        #expect(stats.gaps == 0 && stats.duplicateBytes > 0)
    }
}
