import Foundation
import KafkaCapture
import KafkaPcap
import KafkaProtocol
import NIOCore
import Testing
@testable import KafkaTapeTestSupport

// MARK: - Paths and tools

/// This suite's fixtures and the capture tools it compares against; the rest comes from
/// KafkaTapeTestSupport's `Harness`.
enum Repo {
    /// The package root.
    static let root: String = Harness.root.path

    static let fixtures = root + "/Tests/KafkaPcapTests/Fixtures"

    /// The `kafkatape` binary, when it has been built.
    static var kafkatape: String? { Harness.kafkatapeIfBuilt }

    /// The .venv Python with the Kafka clients.
    static var python: String? { Harness.venvPython }

    static let tshark = Harness.tool("tshark")
    static let tcpdump = Harness.tool("tcpdump")
    static let editcap = Harness.tool("editcap")
    static let setpriv = Harness.tool("setpriv")
    static var isRoot: Bool { Harness.isRoot }
}

// MARK: - tshark

/// One Kafka request as tshark or a capture lists it.
struct RequestKey: Hashable, CustomStringConvertible {
    var apiKey: Int16
    var apiVersion: Int16
    var correlationId: Int32
    var description: String { "\(apiKey)/v\(apiVersion)#\(correlationId)" }
}

/// How long a tshark run may take: it reads a small file in a second or two alone, but it loads every
/// dissector first, and with every suite running at once on two cores one run took over 120 s.
let tsharkTimeout: TimeInterval = 600

/// The Kafka requests tshark's dissector finds, in packet order, grouped by client port:
/// `tshark -r FILE -d tcp.port==PORT,kafka -T fields -e kafka.request_key -e kafka.api_version -e kafka.correlation_id`.
func tsharkRequests(_ file: String, ports: [Int]) async throws -> [Int: [RequestKey]] {
    guard let tshark = Repo.tshark else { return [:] }
    var args = ["-r", file, "-n"]
    for p in ports { args += ["-d", "tcp.port==\(p),kafka"] }
    args += [
        "-Y", "kafka.request_key", "-T", "fields", "-E", "occurrence=a", "-E", "separator=/t",
        "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "kafka.request_key", "-e", "kafka.api_version", "-e", "kafka.correlation_id",
    ]
    let r = try await Harness.runAsync(tshark, args, timeout: tsharkTimeout)
    #expect(r.status == 0, "tshark failed: \(r.stderr)")
    var out: [Int: [RequestKey]] = [:]
    for line in r.stdout.split(separator: "\n") {
        let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard cols.count == 5, let src = Int(cols[0]), let dst = Int(cols[1]) else { continue }
        // Requests travel to a broker port; matched responses carry a generated request_key too.
        guard ports.contains(dst), !ports.contains(src) else { continue }
        let keys = cols[2].split(separator: ","), versions = cols[3].split(separator: ","), ids = cols[4].split(separator: ",")
        for i in 0..<min(keys.count, versions.count, ids.count) {
            guard let k = Int16(keys[i]), let v = Int16(versions[i]), let c = Int32(ids[i]) else { continue }
            out[src, default: []].append(RequestKey(apiKey: k, apiVersion: v, correlationId: c))
        }
    }
    return out
}

/// Packets tshark flags at the TCP level (retransmissions, lost segments, out of order, ...).
func tsharkTcpProblems(_ file: String) async throws -> [String] {
    guard let tshark = Repo.tshark else { return [] }
    let r = try await Harness.runAsync(tshark, ["-r", file, "-n", "-Y", "tcp.analysis.flags && !tcp.analysis.window_update"], timeout: tsharkTimeout)
    return r.stdout.split(separator: "\n").map(String.init)
}

// MARK: - Captures

/// Every record of a capture file.
func readCapture(_ path: String) throws -> [CaptureRecord] {
    let reader = try CaptureReader(path: path)
    return try reader.readAll()
}

/// A capture's requests, grouped by the client port of their connection, in order.
func captureRequests(_ records: [CaptureRecord]) -> [Int: [RequestKey]] {
    var clientPort: [UInt64: Int] = [:]
    var out: [Int: [RequestKey]] = [:]
    for r in records {
        switch r {
        case .connectionOpened(let o):
            clientPort[o.connectionId] = TcpEndpoint(o.clientAddress).map { Int($0.port) } ?? Int(o.connectionId)
        case .frame(let f) where f.direction == .request:
            guard let p = KafkaRequestPrefix(payload: f.payload) else { continue }
            out[clientPort[f.connectionId] ?? -1, default: []].append(
                RequestKey(apiKey: p.apiKey, apiVersion: p.apiVersion, correlationId: p.correlationId))
        default:
            break
        }
    }
    return out
}

/// An exchange reduced to what a round trip must preserve: the connection's position among the
/// capture's connections, API, version, correlation id and both payloads.
struct ExchangeFingerprint: Hashable, CustomStringConvertible {
    var connectionIndex: Int
    var apiKey: Int16
    var apiVersion: Int16
    var correlationId: Int32
    var request: [UInt8]
    var response: [UInt8]?

    var description: String {
        "conn#\(connectionIndex) \(apiKey)/v\(apiVersion)#\(correlationId) req \(request.count)B resp \(response.map { "\($0.count)B" } ?? "none")"
    }
}

/// The exchanges of a capture, per connection in request order; connections numbered by first appearance.
func exchangeFingerprints(_ records: [CaptureRecord]) -> [ExchangeFingerprint] {
    var index: [UInt64: Int] = [:]
    for r in records {
        if let id = r.connectionId, index[id] == nil { index[id] = index.count }
    }
    var out: [ExchangeFingerprint] = []
    for case .exchange(let e) in ExchangeTracker.pair(records) {
        out.append(
            ExchangeFingerprint(
                connectionIndex: index[e.connectionId] ?? -1, apiKey: e.apiKey, apiVersion: e.apiVersion,
                correlationId: e.correlationId, request: Array(e.request.payload.readableBytesView),
                response: e.response.map { Array($0.payload.readableBytesView) }))
    }
    return out.sorted { ($0.connectionIndex, $0.correlationId) < ($1.connectionIndex, $1.correlationId) }
}

// MARK: - Kafka frames

/// A request frame (size prefix included): header v1 (api key, version, correlation id, client id), then `body`.
func requestFrame(apiKey: Int16 = 3, version: Int16 = 1, correlationId: Int32, clientId: String = "test-client", body: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]) -> [UInt8] {
    var payload: [UInt8] = []
    payload.appendInteger(apiKey)
    payload.appendInteger(version)
    payload.appendInteger(correlationId)
    payload.appendInteger(Int16(clientId.utf8.count))
    payload += Array(clientId.utf8)
    payload += body
    var frame: [UInt8] = []
    frame.appendInteger(Int32(payload.count))
    return frame + payload
}

/// A response frame (size prefix included): correlation id, then `body`.
func responseFrame(correlationId: Int32, body: [UInt8] = Array(repeating: 0xAB, count: 40)) -> [UInt8] {
    var payload: [UInt8] = []
    payload.appendInteger(correlationId)
    payload += body
    var frame: [UInt8] = []
    frame.appendInteger(Int32(payload.count))
    return frame + payload
}

extension Array where Element == UInt8 {
    mutating func appendInteger<T: FixedWidthInteger>(_ v: T) {
        Swift.withUnsafeBytes(of: v.bigEndian) { append(contentsOf: $0) }
    }
}

/// Frames recorded from real clients (KafkaProtocolTests' golden fixtures), one session per file.
struct GoldenFrame {
    var connection: Int
    var direction: FrameDirection
    var payload: [UInt8]
}

func goldenSession(_ name: String) throws -> [GoldenFrame] {
    let path = Repo.root + "/Tests/KafkaProtocolTests/Fixtures/\(name).jsonl"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var out: [GoldenFrame] = []
    for line in text.split(separator: "\n") {
        guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let conn = obj["connection"] as? Int, let dir = obj["direction"] as? String,
            let b64 = obj["frame"] as? String, let data = Data(base64Encoded: b64)
        else { continue }
        out.append(GoldenFrame(connection: conn, direction: dir == "request" ? .request : .response, payload: Array(data)))
    }
    return out
}

/// A capture built from golden frames, as the proxy would have written it.
func captureRecords(from frames: [GoldenFrame], startNs: Int64 = 1_700_000_000_000_000_000, ipv6: Bool = false) -> [CaptureRecord] {
    var records: [CaptureRecord] = []
    var opened: Set<Int> = []
    var t = startNs
    func ts() -> CaptureTimestamp {
        t += 250_000
        return CaptureTimestamp(monotonicNs: UInt64(t - startNs), wallNs: t)
    }
    for f in frames {
        if !opened.contains(f.connection) {
            opened.insert(f.connection)
            let client = ipv6 ? "[::1]:\(50000 + f.connection)" : "127.0.0.1:\(50000 + f.connection)"
            let listener = ipv6 ? "[::1]:19092" : "127.0.0.1:19092"
            records.append(
                .connectionOpened(
                    ConnectionOpenedRecord(
                        time: ts(), connectionId: UInt64(f.connection), clientAddress: client, listenerAddress: listener,
                        upstreamAddress: "127.0.0.1:9092")))
        }
        records.append(.frame(FrameRecord(time: ts(), connectionId: UInt64(f.connection), direction: f.direction, payload: ByteBuffer(bytes: f.payload))))
    }
    for c in opened.sorted() {
        records.append(.connectionClosed(ConnectionClosedRecord(time: ts(), connectionId: UInt64(c), closedBy: .client, reason: "EOF")))
    }
    return records
}

func writeCapture(_ records: [CaptureRecord], to path: String) throws {
    let writer = try CaptureWriter(
        path: path,
        header: CaptureHeader(
            toolVersion: "kafkapcap-tests", startTime: records.first?.time ?? CaptureTimestamp(monotonicNs: 0, wallNs: 0),
            listenAddress: "127.0.0.1:19092", upstreamAddress: "127.0.0.1:9092"))
    for r in records { try writer.append(r) }
    try writer.close()
}

// MARK: - Crafted packets

/// One captured packet made for a test.
struct CraftedPacket {
    var timestampNs: Int64
    var bytes: [UInt8]
}

/// Builds the packets of one TCP connection with consistent sequence numbers.
struct CraftedConnection {
    var client: TcpEndpoint
    var broker: TcpEndpoint
    var clientSeq: UInt32
    var brokerSeq: UInt32
    var time: Int64 = 1_700_000_000_000_000_000
    let builder = TcpPacketBuilder()

    init(client: String = "10.1.0.5:50123", broker: String = "10.1.0.9:9092", clientISN: UInt32 = 1000, brokerISN: UInt32 = 5000) {
        self.client = TcpEndpoint(client) ?? TcpEndpoint(address: .loopbackV4, port: 50123)
        self.broker = TcpEndpoint(broker) ?? TcpEndpoint(address: .loopbackV4, port: 9092)
        clientSeq = clientISN
        brokerSeq = brokerISN
    }

    mutating func packet(fromClient: Bool, seq: UInt32, ack: UInt32, flags: TcpFlags, payload: [UInt8] = []) -> CraftedPacket {
        time += 1000
        var out: [UInt8] = []
        payload.withUnsafeBytes { p in
            builder.build(
                into: &out, source: fromClient ? client : broker, destination: fromClient ? broker : client,
                sourceMAC: TcpPacketBuilder.clientMAC, destinationMAC: TcpPacketBuilder.serverMAC, sequenceNumber: seq,
                acknowledgmentNumber: ack, flags: flags, window: 65535, payload: p, identification: 1)
        }
        return CraftedPacket(timestampNs: time, bytes: out)
    }

    /// SYN, SYN-ACK, ACK.
    mutating func handshake() -> [CraftedPacket] {
        let a = packet(fromClient: true, seq: clientSeq, ack: 0, flags: .syn)
        let b = packet(fromClient: false, seq: brokerSeq, ack: clientSeq &+ 1, flags: [.syn, .ack])
        clientSeq &+= 1
        brokerSeq &+= 1
        let c = packet(fromClient: true, seq: clientSeq, ack: brokerSeq, flags: .ack)
        return [a, b, c]
    }

    /// `bytes` from one side, cut into segments of the given sizes (the last size repeats).
    mutating func send(fromClient: Bool, _ bytes: [UInt8], sizes: [Int] = [1460]) -> [CraftedPacket] {
        var out: [CraftedPacket] = []
        var i = 0
        var k = 0
        while i < bytes.count {
            let n = Swift.min(sizes[Swift.min(k, sizes.count - 1)], bytes.count - i)
            let chunk = Array(bytes[i..<(i + n)])
            if fromClient {
                out.append(packet(fromClient: true, seq: clientSeq, ack: brokerSeq, flags: [.ack, .psh], payload: chunk))
                clientSeq &+= UInt32(n)
            } else {
                out.append(packet(fromClient: false, seq: brokerSeq, ack: clientSeq, flags: [.ack, .psh], payload: chunk))
                brokerSeq &+= UInt32(n)
            }
            i += n
            k += 1
        }
        return out
    }

    /// A pure ACK from one side acknowledging everything the other sent.
    mutating func ack(fromClient: Bool) -> CraftedPacket {
        fromClient
            ? packet(fromClient: true, seq: clientSeq, ack: brokerSeq, flags: .ack)
            : packet(fromClient: false, seq: brokerSeq, ack: clientSeq, flags: .ack)
    }

    /// FIN from the client, FIN from the broker, last ACK.
    mutating func close() -> [CraftedPacket] {
        let a = packet(fromClient: true, seq: clientSeq, ack: brokerSeq, flags: [.fin, .ack])
        let b = packet(fromClient: false, seq: brokerSeq, ack: clientSeq &+ 1, flags: [.fin, .ack])
        let c = packet(fromClient: true, seq: clientSeq &+ 1, ack: brokerSeq &+ 1, flags: .ack)
        clientSeq &+= 1
        brokerSeq &+= 1
        return [a, b, c]
    }
}

/// Imports crafted Ethernet packets in memory; returns the records and statistics.
func importPackets(
    _ packets: [CraftedPacket], configuration: KafkaPcapImporter.Configuration = .init(), linkType: PcapLinkType = .ethernet
) throws -> (records: [CaptureRecord], statistics: PcapImportStatistics) {
    let storage = MemoryCaptureStorage()
    let writer = try CaptureWriter(
        path: "mem.ktape",
        header: CaptureHeader(toolVersion: "t", startTime: CaptureTimestamp(monotonicNs: 0, wallNs: 0), listenAddress: "pcap", upstreamAddress: ""),
        storage: storage)
    let importer = KafkaPcapImporter(writer: writer, configuration: configuration)
    let decoder = PacketDecoder(linkType: linkType)
    for p in packets {
        try p.bytes.withUnsafeBytes { raw in
            try importer.process(PcapPacket(timestampNs: p.timestampNs, originalLength: raw.count, data: raw), decoder: decoder)
        }
    }
    try importer.finish()
    try writer.close()
    let reader = try CaptureReader(path: "mem.ktape", storage: storage)
    return (try reader.readAll(), importer.statistics)
}

/// Frame payloads of one direction, in capture order.
func framePayloads(_ records: [CaptureRecord], _ direction: FrameDirection, connection: UInt64? = nil) -> [[UInt8]] {
    records.compactMap {
        guard case .frame(let f) = $0, f.direction == direction, connection == nil || f.connectionId == connection else { return nil }
        return Array(f.payload.readableBytesView)
    }
}

func events(_ records: [CaptureRecord], kind: EventRecord.Kind? = nil) -> [EventRecord] {
    records.compactMap {
        guard case .event(let e) = $0, kind == nil || e.kind == kind else { return nil }
        return e
    }
}

/// A deterministic random generator (SplitMix64), so shuffles are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

// MARK: - Short comparisons

/// Frames or byte strings as a short string for expectations: count, sizes and an FNV-1a hash, so a
/// failure prints a line, not megabytes.
func digest(_ chunks: [[UInt8]]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for c in chunks {
        for b in c {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        h ^= 0xFF
        h = h &* 0x100_0000_01b3
    }
    let sizes = chunks.count <= 12 ? chunks.map { String($0.count) }.joined(separator: ",") : "\(chunks.prefix(12).map { String($0.count) }.joined(separator: ",")),…"
    return "\(chunks.count)×[\(sizes)] #\(String(h, radix: 16))"
}

func digest(_ bytes: [UInt8]) -> String { digest([bytes]) }
