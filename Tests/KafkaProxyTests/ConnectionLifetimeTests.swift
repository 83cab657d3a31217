import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// Nothing of a closed connection stays: the handlers let go of the connection in `handlerRemoved`,
/// the server's table drops it, and the object is deinitialised (counted, not timed, not RSS).
@Suite(.serialized) struct ConnectionLifetimeTests {
    static func config(upstreamPort: Int = 9, maxBufferedBytes: Int = BufferBudget.defaultLimit) -> ProxyConfiguration {
        ProxyConfiguration(
            listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: upstreamPort),
            connectTimeoutMs: 2000, maxBufferedBytes: maxBufferedBytes)
    }

    @Test func handlersOnAnEmbeddedChannelLetGoOfTheConnection() throws {
        let loop = EmbeddedEventLoop()
        let server = KafkaProxyServer(configuration: Self.config(), capture: MemoryCaptureSink(), group: loop)
        let channel = EmbeddedChannel(loop: loop)
        weak var weakConnection: ProxyConnection?
        do {
            let connection = server.registerConnection(client: channel, nodeId: nil)
            weakConnection = connection
            try channel.pipeline.syncOperations.addHandler(ClientFramer(connection: connection, maxFrameBytes: 1 << 20))
            try channel.pipeline.syncOperations.addHandler(ProxySideHandler(connection: connection, side: .client))
            #expect(connection.clientHandler != nil)
        }
        #expect(weakConnection != nil, "the pipeline keeps an open connection alive")
        #expect(server.activeConnections == 1)
        // Half of a 1,000-byte frame: its declared size is held from the budget.
        var half = ByteBuffer()
        half.writeInteger(Int32(1000))
        half.writeBytes([UInt8](repeating: 7, count: 500))
        try channel.writeInbound(half)
        #expect(server.budget.reserved == 1004)

        _ = try channel.finish(acceptAlreadyClosed: true)
        loop.run()
        #expect(server.budget.reserved == 0, "the partial frame's reservation went back")
        #expect(server.activeConnections == 0, "the server's table entry is gone")
        #expect(weakConnection == nil, "something still holds the closed connection")
        #expect(server.liveConnectionObjects.withLockedValue { $0 } == 0)
        try loop.syncShutdownGracefully()
    }

    @Test func aCompleteFrameOnAnEmbeddedChannelHoldsNoBudget() throws {
        let loop = EmbeddedEventLoop()
        let sink = MemoryCaptureSink()
        let server = KafkaProxyServer(configuration: Self.config(), capture: sink, group: loop)
        let channel = EmbeddedChannel(loop: loop)
        let connection = server.registerConnection(client: channel, nodeId: nil)
        try channel.pipeline.syncOperations.addHandler(ClientFramer(connection: connection, maxFrameBytes: 1 << 20))
        try channel.pipeline.syncOperations.addHandler(ProxySideHandler(connection: connection, side: .client))
        var header = RequestHeader()
        header.requestApiKey = 18
        header.requestApiVersion = 3
        header.correlationId = 4
        let payload = KafkaFrameCodec.encodeRequest(header: header, body: ApiVersionsRequest())
        var frame = ByteBuffer()
        frame.writeInteger(Int32(payload.readableBytes))
        frame.writeImmutableBuffer(payload)
        // Byte by byte: the framer holds the frame's size once its prefix is in, and gives it back whole.
        for i in 0..<frame.readableBytes {
            try channel.writeInbound(frame.getSlice(at: i, length: 1) ?? ByteBuffer())
            if i >= 3 && i < frame.readableBytes - 1 { #expect(server.budget.reserved == payload.readableBytes + 4) }
        }
        #expect(server.budget.reserved == 0)
        #expect(sink.frames.map(\.payload) == [payload])
        _ = try channel.finish(acceptAlreadyClosed: true)
        try loop.syncShutdownGracefully()
    }

    @Test func thousandsOfShortConnectionsLeaveNothingBehind() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let upstream = try await ScriptedBroker(group: group) { request in
            request.body is ApiVersionsRequest ? ApiVersionsResponse() : nil
        }
        let sink = MemoryCaptureSink()
        let proxy = KafkaProxyServer(configuration: Self.config(upstreamPort: upstream.port), capture: sink, group: group)
        try await proxy.start()
        let count = 3000
        var answered = 0
        for i in 0..<count {
            let client = try RawKafkaSocket(port: proxy.bootstrapPort)
            try client.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: Int32(i))
            if let f = try client.readFrame(), KafkaFrameCodec.responseCorrelationId(f) == Int32(i) { answered += 1 }
        }
        #expect(answered == count)
        // Every connection closed; every connection object gone (a leak keeps this above zero forever).
        #expect(
            await sink.waitUntil(timeout: 60) { _ in
                proxy.activeConnections == 0 && proxy.liveConnectionObjects.withLockedValue { $0 } == 0
            },
            "live connection objects: \(proxy.liveConnectionObjects.withLockedValue { $0 }), table: \(proxy.activeConnections)")
        #expect(sink.closes.count == count)
        #expect(proxy.budget.reserved == 0)
        await proxy.stop()
        await upstream.stop()
        try await group.shutdownGracefully()
    }
}
