#if canImport(Glibc)
import Glibc
#endif
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// The proxy left running: many connections, peers that vanish mid-frame, an upstream that restarts.
@Suite(.serialized) struct RobustnessTests {
    static func apiVersionsBroker(_ group: any EventLoopGroup, port: Int = 0) async throws -> ScriptedBroker {
        try await ScriptedBroker(group: group, port: port) { request in
            request.body is ApiVersionsRequest ? ApiVersionsResponse() : nil
        }
    }

    static func residentMemoryBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields.count > 1 ? fields[1] : "0") ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    @Test func aThousandConcurrentConnectionsWithBoundedMemory() async throws {
        // Each connection costs three descriptors here (client, proxy side, upstream side, and the fake
        // broker's): raise the limit for this process.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 8192 {
            limit.rlim_cur = min(8192, limit.rlim_max)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let upstream = try await Self.apiVersionsBroker(group)
        let sink = MemoryCaptureSink()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: upstream.port)),
            capture: sink, group: group)
        try await proxy.start()
        let before = Self.residentMemoryBytes()
        var clients: [RawKafkaSocket] = []
        for _ in 0..<1000 { clients.append(try RawKafkaSocket(port: proxy.bootstrapPort)) }
        for (i, c) in clients.enumerated() {
            try c.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: Int32(i))
        }
        var answered = 0
        for (i, c) in clients.enumerated() {
            if let f = try c.readFrame(), KafkaFrameCodec.responseCorrelationId(f) == Int32(i) { answered += 1 }
        }
        #expect(answered == 1000)
        #expect(proxy.activeConnections == 1000)
        let grown = Self.residentMemoryBytes() - before
        // 1,000 idle connections (and this test's own clients and fake broker) in well under 1 MB each.
        #expect(grown < 200 << 20, "resident memory grew by \(grown >> 20) MB")
        clients.removeAll()
        // Closing takes half a second here; the bound is for a loaded machine running every suite at once.
        let allClosed = await sink.waitUntil(timeout: 60) { _ in proxy.activeConnections == 0 }
        #expect(
            allClosed,
            "\(proxy.activeConnections) connections still open; the capture saw \(sink.closes.count) of 1,000 close (\(sink.closes.filter { $0.closedBy == .client }.count) by the client)")
        await proxy.stop()
        await upstream.stop()
        try await group.shutdownGracefully()
    }

    @Test func aClientKilledMidFrameIsRecordedAndNothingElseBreaks() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upstream = try await Self.apiVersionsBroker(group)
        let sink = MemoryCaptureSink()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: upstream.port)),
            capture: sink, group: group)
        try await proxy.start()
        do {
            let half = try RawKafkaSocket(port: proxy.bootstrapPort)
            try await Task.sleep(for: .milliseconds(50))
            // A 100-byte frame announced, 10 bytes sent, then the client dies.
            try half.sendRaw([0, 0, 0, 100, 0, 18, 0, 3, 0, 0, 0, 1, 0, 1])
        }
        #expect(await sink.waitUntil { $0.closes.contains { $0.closedBy == .client } })
        #expect(!sink.frames.contains { $0.direction == .request }, "a partial frame is never recorded as a frame")
        let good = try RawKafkaSocket(port: proxy.bootstrapPort)
        try good.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 5)
        #expect(try good.readFrame().flatMap(KafkaFrameCodec.responseCorrelationId) == 5)
        await proxy.stop()
        await upstream.stop()
        try await group.shutdownGracefully()
    }

    @Test func anUpstreamRestartDisconnectsClientsWhoThenReconnectThroughTheProxy() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var upstream = try await Self.apiVersionsBroker(group)
        let port = upstream.port
        let sink = MemoryCaptureSink()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: port)),
            capture: sink, group: group)
        try await proxy.start()
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        try client.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 1)
        #expect(try client.readFrame() != nil)
        // The broker goes away: the client's connection is closed, and the capture says by whom.
        await upstream.stopAll()
        #expect(client.waitForClose())
        #expect(await sink.waitUntil { $0.closes.contains { $0.closedBy == .broker } })
        // The broker comes back on the same port: a reconnecting client goes through the proxy again.
        upstream = try await Self.apiVersionsBroker(group, port: port)
        let again = try RawKafkaSocket(port: proxy.bootstrapPort)
        try again.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 2)
        #expect(try again.readFrame().flatMap(KafkaFrameCodec.responseCorrelationId) == 2)
        let opened = sink.all.filter { if case .connectionOpened = $0 { return true } else { return false } }
        #expect(opened.count == 2)
        await proxy.stop()
        await upstream.stop()
        try await group.shutdownGracefully()
    }
}
