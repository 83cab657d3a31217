import NIOCore
import NIOPosix

/// `kafkatape-bench relay LISTEN_PORT UPSTREAM_PORT`: the floor for the proxy benchmark. A bare TCP
/// relay on SwiftNIO with the proxy's threading (one event loop per core, both sides of a connection
/// on the same loop, TCP_NODELAY, flush at the end of each read burst) and nothing else: no framing,
/// no correlation tracking, no capture, no address rewriting (the broker behind it must advertise the
/// relay's port). What `record` costs above this is KafkaTape's own work.
enum Relay {
    final class Glue: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var partner: Glue?
        var context: ChannelHandlerContext?
        var pending: [ByteBuffer] = []

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner?.send(unwrapInboundIn(data))
        }

        func channelReadComplete(context: ChannelHandlerContext) { partner?.context?.flush() }

        func send(_ buffer: ByteBuffer) {
            guard let context else { pending.append(buffer); return }
            context.write(wrapOutboundOut(buffer), promise: nil)
        }

        func connected() {
            guard let context else { return }
            for b in pending { context.write(wrapOutboundOut(b), promise: nil) }
            pending = []
            context.flush()
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.context?.close(promise: nil)
            partner = nil
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }

    static func run(listenPort: Int, upstreamPort: Int) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { client in
                let clientGlue = Glue()
                let upstreamGlue = Glue()
                clientGlue.partner = upstreamGlue
                upstreamGlue.partner = clientGlue
                return client.pipeline.addHandler(clientGlue).flatMap {
                    ClientBootstrap(group: client.eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { $0.pipeline.addHandler(upstreamGlue) }
                        .connect(host: "127.0.0.1", port: upstreamPort)
                        .map { _ in upstreamGlue.connected() }
                }
            }
            .bind(host: "127.0.0.1", port: listenPort).wait()
        print("relay: listening on 127.0.0.1:\(server.localAddress?.port ?? listenPort), upstream 127.0.0.1:\(upstreamPort)")
        try server.closeFuture.wait()
    }
}
