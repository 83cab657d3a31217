import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// The proxy against scripted brokers: address virtualisation across nodes, redaction, malformed
/// frames, an unreachable upstream, acks=0. Real sockets on loopback throughout.
@Suite(.serialized) struct ProxyFakeBrokerTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    func startProxy(upstream: Int, sink: MemoryCaptureSink, keepCredentials: Bool = false, maxFrameBytes: Int = 1 << 20) async throws -> KafkaProxyServer {
        let config = ProxyConfiguration(
            listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: upstream),
            maxFrameBytes: maxFrameBytes, keepCredentials: keepCredentials, connectTimeoutMs: 2000)
        let proxy = KafkaProxyServer(configuration: config, capture: sink, group: group)
        try await proxy.start()
        return proxy
    }

    /// Nodes 1 and 2 answering with `responder` (which finds their ports in `portsBox`), and the proxy in
    /// front of node 1 with an in-memory capture.
    func startTwoNodes(
        _ portsBox: PortsBox, _ responder: @escaping ScriptedBroker.Responder
    ) async throws -> (ScriptedBroker, ScriptedBroker, MemoryCaptureSink, KafkaProxyServer) {
        let node1 = try await ScriptedBroker(group: group, respond: responder)
        let node2 = try await ScriptedBroker(group: group, respond: responder)
        portsBox.brokers = [(1, node1.port), (2, node2.port)]
        let sink = MemoryCaptureSink()
        return (node1, node2, sink, try await startProxy(upstream: node1.port, sink: sink))
    }

    static func metadata(brokers: [(Int32, Int)]) -> MetadataResponse {
        var m = MetadataResponse()
        m.clusterId = "fake-cluster"
        m.controllerId = brokers.first?.0 ?? -1
        m.brokers = brokers.map { node, port in
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = node
            b.host = "127.0.0.1"
            b.port = Int32(port)
            return b
        }
        var t = MetadataResponse.MetadataResponseTopic()
        t.name = "orders"
        t.partitions = brokers.enumerated().map { i, b in
            var p = MetadataResponse.MetadataResponsePartition()
            p.partitionIndex = Int32(i)
            p.leaderId = b.0
            p.replicaNodes = [b.0]
            p.isrNodes = [b.0]
            return p
        }
        m.topics = [t]
        return m
    }

    @Test func twoNodeUpstreamNeverLetsTheClientBypassTheProxy() async throws {
        let portsBox = PortsBox()
        let responder: ScriptedBroker.Responder = { request in
            switch request.body {
            case is MetadataRequest: return Self.metadata(brokers: portsBox.brokers)
            case is ApiVersionsRequest:
                var r = ApiVersionsResponse()
                r.apiKeys = KafkaAPIs.all.map {
                    var v = ApiVersionsResponse.ApiVersion()
                    v.apiKey = $0.apiKey
                    v.minVersion = $0.versions.lowerBound
                    v.maxVersion = $0.versions.upperBound
                    return v
                }
                return r
            default: return nil
            }
        }
        let (node1, node2, sink, proxy) = try await startTwoNodes(portsBox, responder)

        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        var request = MetadataRequest()
        request.topics = nil
        try client.send(request: request, apiKey: 3, version: 12, correlationId: 7)
        let payload = try #require(try client.readFrame())
        let response = try KafkaFrameCodec.decodeResponse(payload, apiKey: 3, apiVersion: 12)
        let md = try #require(response.body as? MetadataResponse)
        #expect(response.header.correlationId == 7)
        #expect(md.brokers.count == 2)
        let upstreamPorts: Set<Int32> = [Int32(node1.port), Int32(node2.port)]
        let mapped = proxy.nodePorts
        for b in md.brokers {
            #expect(b.host == "127.0.0.1")
            #expect(!upstreamPorts.contains(b.port), "node \(b.nodeId) still points at the upstream")
            #expect(mapped[b.nodeId] == Int(b.port))
        }
        // Everything else in the answer is untouched.
        var expected = Self.metadata(brokers: [(1, node1.port), (2, node2.port)])
        for i in expected.brokers.indices { expected.brokers[i].port = md.brokers[i].port }
        #expect(md == expected)

        // Follow the rewritten address of node 2: the connection lands on node 2 through the proxy.
        let node2Port = try #require(mapped[2])
        let direct = try RawKafkaSocket(port: node2Port)
        try direct.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 1)
        #expect(try direct.readFrame() != nil)
        #expect(node2.requestKeys == [18])
        #expect(node1.requestKeys == [3])

        // The capture holds the broker's true answer, and the rewrite separately.
        #expect(await sink.waitUntil { $0.frames.count >= 4 })
        let original = try #require(sink.frames.first { $0.direction == .response })
        let originalMd = try #require(try KafkaFrameCodec.decodeResponse(original.payload, apiKey: 3, apiVersion: 12).body as? MetadataResponse)
        #expect(Set(originalMd.brokers.map(\.port)) == upstreamPorts)
        let rewrite = try #require(sink.events.first { $0.kind == .rewrite })
        #expect(rewrite.payload == payload)
        #expect(Set(sink.mappings.map(\.nodeId)) == [1, 2])
        await proxy.stop()
        await node1.stop()
        await node2.stop()
    }

    @Test func saslCredentialsAreForwardedButRedactedInTheCapture() async throws {
        let secret = "\u{0}alice\u{0}s3cr3t-password"
        let upstream = try await ScriptedBroker(group: group) { request in
            guard let auth = request.body as? SaslAuthenticateRequest else { return nil }
            var r = SaslAuthenticateResponse()
            // The broker saw the real credentials.
            r.errorCode = auth.authBytes == ByteBuffer(string: secret) ? 0 : 58
            r.authBytes = ByteBuffer(string: "server-final-message")
            return r
        }
        for keep in [false, true] {
            let sink = MemoryCaptureSink()
            let proxy = try await startProxy(upstream: upstream.port, sink: sink, keepCredentials: keep)
            let client = try RawKafkaSocket(port: proxy.bootstrapPort)
            var req = SaslAuthenticateRequest()
            req.authBytes = ByteBuffer(string: secret)
            try client.send(request: req, apiKey: 36, version: 2, correlationId: 3)
            let answer = try #require(try client.readFrame())
            let resp = try #require(try KafkaFrameCodec.decodeResponse(answer, apiKey: 36, apiVersion: 2).body as? SaslAuthenticateResponse)
            #expect(resp.errorCode == 0)
            #expect(resp.authBytes == ByteBuffer(string: "server-final-message"))
            #expect(await sink.waitUntil { $0.frames.count == 2 })
            let captured = sink.frames
            let reqFrame = try #require(captured.first { $0.direction == .request })
            let respFrame = try #require(captured.first { $0.direction == .response })
            let capturedReq = try #require(try KafkaFrameCodec.decodeRequest(reqFrame.payload).body as? SaslAuthenticateRequest)
            let capturedResp = try #require(try KafkaFrameCodec.decodeResponse(respFrame.payload, apiKey: 36, apiVersion: 2).body as? SaslAuthenticateResponse)
            if keep {
                #expect(capturedReq.authBytes == ByteBuffer(string: secret))
                #expect(reqFrame.flags.isEmpty)
            } else {
                #expect(capturedReq.authBytes == CredentialRedactor.marker)
                #expect(capturedResp.authBytes == CredentialRedactor.marker)
                #expect(reqFrame.flags.contains(.redacted) && respFrame.flags.contains(.redacted))
                #expect(!String(buffer: reqFrame.payload).contains("s3cr3t"))
            }
            await proxy.stop()
        }
        await upstream.stop()
    }

    @Test(arguments: [Int32(-5), Int32(5000)])
    func malformedFrameSizeDisconnectsTheClientAndIsRecorded(size: Int32) async throws {
        let upstream = try await ScriptedBroker(group: group) { _ in ApiVersionsResponse() }
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: upstream.port, sink: sink, maxFrameBytes: 1024)
        let bad = try RawKafkaSocket(port: proxy.bootstrapPort)
        try await Task.sleep(for: .milliseconds(50))  // let the upstream connect so reads start
        var bytes: [UInt8] = []
        withUnsafeBytes(of: size.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [0, 18, 0, 3])
        try bad.sendRaw(bytes)
        #expect(bad.waitForClose())
        #expect(await sink.waitUntil { $0.events.contains { $0.kind == .malformedFrame } })
        let event = try #require(sink.events.first { $0.kind == .malformedFrame })
        #expect(event.message.contains(String(size)))
        #expect(sink.closes.contains { $0.closedBy == .proxy })
        // The proxy still serves others.
        let good = try RawKafkaSocket(port: proxy.bootstrapPort)
        try good.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 9)
        let answer = try #require(try good.readFrame())
        #expect(KafkaFrameCodec.responseCorrelationId(answer) == 9)
        await proxy.stop()
        await upstream.stop()
    }

    /// A large response is forwarded as it arrives (cut-through): the client reads its first part
    /// while the broker still holds the rest back. The capture still gets the whole frame, and the
    /// responses around it (small, and large but arriving at once) are framed as usual.
    @Test func largeResponsesReachTheClientAsTheyArrive() async throws {
        let broker = try RawKafkaListener()
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: broker.port, sink: sink, maxFrameBytes: 4 << 20)
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        let upstream = try broker.accept()

        func response(correlationId: Int32, bytes: Int) -> [UInt8] {
            var out: [UInt8] = []
            withUnsafeBytes(of: Int32(bytes).bigEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: correlationId.bigEndian) { out.append(contentsOf: $0) }
            out += (0..<(bytes - 4)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            return out
        }
        let big = response(correlationId: 1, bytes: 1_000_000)
        let small = response(correlationId: 2, bytes: 100)
        let bigAtOnce = response(correlationId: 3, bytes: 200_000)
        for c in Int32(1)...3 { try client.send(request: FetchRequest(), apiKey: 1, version: 11, correlationId: c) }
        for _ in 1...3 { _ = try #require(try upstream.readFrame()) }

        // 1. The first 100 KB of a 1 MB response reach the client before the broker sends the rest.
        try upstream.sendRaw(Array(big[..<100_000]))
        let head = try #require(try client.readExactly(100_000))
        #expect(head == Array(big[..<100_000]))
        try upstream.sendRaw(Array(big[100_000...]) + small + bigAtOnce)
        let rest = try #require(try client.readExactly(big.count - 100_000))
        #expect(rest == Array(big[100_000...]))
        // 2. What follows is framed as usual.
        #expect(try client.readFrame().map { Array($0.readableBytesView) } == Array(small[4...]))
        #expect(try client.readFrame().map { Array($0.readableBytesView) } == Array(bigAtOnce[4...]))
        // 3. The capture holds each response whole, in order.
        #expect(await sink.waitUntil { $0.frames.filter { $0.direction == .response }.count == 3 })
        let responses = sink.frames.filter { $0.direction == .response }.map { Array($0.payload.readableBytesView) }
        #expect(responses == [Array(big[4...]), Array(small[4...]), Array(bigAtOnce[4...])])
        #expect(proxy.statistics.snapshot.latency[1]?.count == 3)
        await proxy.stop()
    }

    /// A raw request frame (size prefix included): header v1 (API key, version, correlation id,
    /// client id "test"), then `body`, then filler up to `bytes` of payload.
    static func rawRequest(apiKey: Int16, version: Int16, correlationId: Int32, body: [UInt8], bytes: Int) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: Int32(bytes).bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: apiKey.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: version.bigEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: correlationId.bigEndian) { out.append(contentsOf: $0) }
        out += [0, 4] + Array("test".utf8) + body
        out += (0..<(bytes + 4 - out.count)).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        return out
    }

    /// A large request is forwarded as it arrives (cut-through), like a large response: the broker
    /// reads the first part of a 1 MB Produce while the client still holds the rest back, and the
    /// frame's declared size is held of the buffer budget meanwhile. The capture still gets each
    /// request whole, in order, and the requests around it are framed as usual. A large
    /// SaslAuthenticate is streamed too: the broker gets its bytes unchanged, the capture a redacted
    /// copy (redaction needs the whole frame, and gets it at the end).
    @Test func largeRequestsReachTheBrokerAsTheyArrive() async throws {
        let broker = try RawKafkaListener()
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: broker.port, sink: sink, maxFrameBytes: 4 << 20)
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        let upstream = try broker.accept()

        // Produce v3: transactional id null, acks 1, timeout, then filler.
        let produceHead: [UInt8] = [0xFF, 0xFF, 0, 1, 0, 0, 0x03, 0xE8]
        let big = Self.rawRequest(apiKey: 0, version: 3, correlationId: 1, body: produceHead, bytes: 1_000_000)
        let small = Self.rawRequest(apiKey: 0, version: 3, correlationId: 2, body: produceHead, bytes: 100)
        let bigAtOnce = Self.rawRequest(apiKey: 0, version: 3, correlationId: 3, body: produceHead, bytes: 200_000)

        // 1. The first 100 KB of a 1 MB request reach the broker before the client sends the rest.
        try client.sendRaw(Array(big[..<100_000]))
        let head = try #require(try upstream.readExactly(100_000))
        #expect(head == Array(big[..<100_000]))
        #expect(proxy.budget.reserved == big.count, "a streamed request holds its declared size (for the capture's copy)")
        try client.sendRaw(Array(big[100_000...]) + small + bigAtOnce)
        let rest = try #require(try upstream.readExactly(big.count - 100_000))
        #expect(rest == Array(big[100_000...]))
        // 2. What follows is framed as usual.
        #expect(try upstream.readFrame().map { Array($0.readableBytesView) } == Array(small[4...]))
        #expect(try upstream.readFrame().map { Array($0.readableBytesView) } == Array(bigAtOnce[4...]))
        // 3. The capture holds each request whole, in order; the budget is back.
        #expect(await sink.waitUntil { $0.frames.filter { $0.direction == .request }.count == 3 })
        let requests = sink.frames.filter { $0.direction == .request }.map { Array($0.payload.readableBytesView) }
        #expect(requests == [Array(big[4...]), Array(small[4...]), Array(bigAtOnce[4...])])
        #expect(proxy.budget.reserved == 0)
        // 4. The broker answers; the answers match the streamed request like any other.
        for c in Int32(1)...3 {
            var r: [UInt8] = []
            withUnsafeBytes(of: Int32(8).bigEndian) { r.append(contentsOf: $0) }
            withUnsafeBytes(of: c.bigEndian) { r.append(contentsOf: $0) }
            try upstream.sendRaw(r + [0, 0, 0, 0])
            #expect(try client.readFrame().flatMap(KafkaFrameCodec.responseCorrelationId) == c)
        }
        #expect(await sink.waitUntil { _ in proxy.statistics.snapshot.latency[0]?.count == 3 })
        #expect(!sink.events.contains { $0.kind == "unmatched-response" || $0.kind == "response-order" })

        // 5. A large SaslAuthenticate streams too; only the capture's copy is redacted.
        var auth = SaslAuthenticateRequest()
        auth.authBytes = ByteBuffer(bytes: [UInt8](repeating: 0x73, count: 300_000))
        var header = RequestHeader()
        header.requestApiKey = 36
        header.requestApiVersion = 1
        header.correlationId = 4
        header.clientId = "test"
        let authPayload = Array(KafkaFrameCodec.encodeRequest(header: header, body: auth).readableBytesView)
        let authFrame = withUnsafeBytes(of: Int32(authPayload.count).bigEndian) { Array($0) } + authPayload
        try client.sendRaw(Array(authFrame[..<50_000]))
        #expect(try upstream.readExactly(50_000) == Array(authFrame[..<50_000]))
        try client.sendRaw(Array(authFrame[50_000...]))
        #expect(try upstream.readExactly(authFrame.count - 50_000) == Array(authFrame[50_000...]))
        #expect(await sink.waitUntil { $0.frames.filter { $0.direction == .request }.count == 4 })
        let captured = try #require(sink.frames.last { $0.direction == .request })
        #expect(captured.flags.contains(.redacted))
        #expect(captured.payload.readableBytes < 1000, "the credential reached the capture")
        #expect(captured.wireLength == UInt32(authPayload.count))
        await proxy.stop()
    }

    /// The client closes in the middle of a streamed request: the broker got part of it, loses its
    /// connection too, and the capture says what happened.
    @Test func clientClosingMidStreamIsRecorded() async throws {
        let broker = try RawKafkaListener()
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: broker.port, sink: sink, maxFrameBytes: 4 << 20)
        var client: RawKafkaSocket? = try RawKafkaSocket(port: proxy.bootstrapPort)
        let upstream = try broker.accept()
        let partial = Array(Self.rawRequest(apiKey: 0, version: 3, correlationId: 1, body: [], bytes: 500_000)[..<60_000])
        try client?.sendRaw(partial)
        #expect(try upstream.readExactly(partial.count) == partial)
        client = nil
        #expect(upstream.waitForClose())
        #expect(await sink.waitUntil { $0.events.contains { $0.message.contains("in the middle of a request") } })
        #expect(sink.closes.contains { $0.closedBy == .client })
        #expect(await sink.waitUntil { _ in proxy.budget.reserved == 0 })
        await proxy.stop()
    }

    /// The broker dies in the middle of a streamed response: the client has part of it, and the
    /// capture says what happened.
    @Test func brokerClosingMidStreamIsRecorded() async throws {
        let broker = try RawKafkaListener()
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: broker.port, sink: sink, maxFrameBytes: 4 << 20)
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        let upstream = try broker.accept()
        try client.send(request: FetchRequest(), apiKey: 1, version: 11, correlationId: 1)
        _ = try #require(try upstream.readFrame())
        var partial: [UInt8] = []
        withUnsafeBytes(of: Int32(500_000).bigEndian) { partial.append(contentsOf: $0) }
        withUnsafeBytes(of: Int32(1).bigEndian) { partial.append(contentsOf: $0) }
        partial += [UInt8](repeating: 9, count: 60_000)
        try upstream.sendRaw(partial)
        #expect(try client.readExactly(partial.count) == partial)
        shutdown(upstream.fd, Int32(SHUT_RDWR))
        #expect(client.waitForClose())
        #expect(await sink.waitUntil { $0.events.contains { $0.message.contains("in the middle of a response") } })
        #expect(sink.closes.contains { $0.closedBy == .broker })
        await proxy.stop()
    }

    @Test func unreachableUpstreamClosesTheClientAndKeepsServing() async throws {
        // A port that was free a moment ago: nothing listens there.
        let closed = try await ScriptedBroker(group: group) { _ in nil }
        let deadPort = closed.port
        await closed.stop()
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: deadPort, sink: sink)
        for _ in 0..<2 {
            let client = try RawKafkaSocket(port: proxy.bootstrapPort)
            #expect(client.waitForClose())
        }
        #expect(await sink.waitUntil { $0.events.filter { $0.kind == .upstreamUnreachable }.count == 2 })
        #expect(sink.closes.allSatisfy { $0.closedBy == .proxy && $0.reason.contains("unreachable") })
        #expect(proxy.statistics.snapshot.upstreamFailures == 2)
        await proxy.stop()
    }

    /// KIP-951: a Produce v10+ response names a moved leader's address in its tagged NodeEndpoints. The
    /// proxy finds out whether the field is there without decoding (`responseEndpointsPresent`): without
    /// it the client gets the broker's bytes as they are, with it the address is rewritten to a proxy
    /// listener, so the client never bypasses the proxy.
    @Test func produceNodeEndpointsAreRewrittenAndAbsentOnesPassUnchanged() async throws {
        let portsBox = PortsBox()
        let responder: ScriptedBroker.Responder = { request in
            guard request.body is ProduceRequest else { return nil }
            var r = ProduceResponse()
            var topic = ProduceResponse.TopicProduceResponse()
            topic.name = "orders"
            var partition = ProduceResponse.PartitionProduceResponse()
            partition.index = 0
            // The second request is answered "not the leader", with the new leader's address.
            if request.header.correlationId == 2 {
                partition.errorCode = 6
                var e = ProduceResponse.NodeEndpoint()
                e.nodeId = 2
                e.host = "127.0.0.1"
                e.port = Int32(portsBox.brokers.first { $0.0 == 2 }?.1 ?? 0)
                r.nodeEndpoints = [e]
            }
            topic.partitionResponses = [partition]
            r.responses = [topic]
            return r
        }
        let (node1, node2, sink, proxy) = try await startTwoNodes(portsBox, responder)
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        var produce = ProduceRequest()
        produce.acks = 1
        produce.timeoutMs = 1000
        try client.send(request: produce, apiKey: 0, version: 12, correlationId: 1)
        let plain = try #require(try client.readFrame())
        try client.send(request: produce, apiKey: 0, version: 12, correlationId: 2)
        let moved = try #require(try client.readFrame())

        #expect(await sink.waitUntil { $0.frames.count >= 4 })
        let fromBroker = sink.frames.filter { $0.direction == .response }.map(\.payload)
        #expect(fromBroker.count == 2)
        // No endpoints: the broker's bytes, unchanged, and no rewrite.
        #expect(fromBroker.first == plain)
        // Endpoints: node 2 now points at a proxy listener, the rest is the broker's answer.
        let decoded = try #require(try KafkaFrameCodec.decodeResponse(moved, apiKey: 0, apiVersion: 12).body as? ProduceResponse)
        let endpoint = try #require(decoded.nodeEndpoints?.first)
        let mapped = try #require(proxy.nodePorts[2])
        #expect(endpoint.nodeId == 2 && endpoint.host == "127.0.0.1" && endpoint.port == Int32(mapped))
        #expect(endpoint.port != Int32(node2.port))
        #expect(decoded.responses.first?.partitionResponses.first?.errorCode == 6)
        let rewrites = sink.events.filter { $0.kind == .rewrite }
        #expect(rewrites.count == 1)
        #expect(rewrites.first?.payload == moved)
        await proxy.stop()
        await node1.stop()
        await node2.stop()
    }

    @Test func produceWithAcksZeroExpectsNoResponse() async throws {
        let upstream = try await ScriptedBroker(group: group) { request in
            request.body is ApiVersionsRequest ? ApiVersionsResponse() : nil
        }
        let sink = MemoryCaptureSink()
        let proxy = try await startProxy(upstream: upstream.port, sink: sink)
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        var produce = ProduceRequest()
        produce.acks = 0
        produce.timeoutMs = 1000
        try client.send(request: produce, apiKey: 0, version: 9, correlationId: 1)
        try client.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 2)
        let answer = try #require(try client.readFrame())
        #expect(KafkaFrameCodec.responseCorrelationId(answer) == 2)
        #expect(await sink.waitUntil { $0.frames.count == 3 })
        #expect(!sink.events.contains { $0.kind == "response-order" || $0.kind == "unmatched-response" })
        await proxy.stop()
        await upstream.stop()
    }
}

final class PortsBox: @unchecked Sendable {
    var brokers: [(Int32, Int)] = []
}
