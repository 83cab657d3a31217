import Foundation
import KafkaCapture
import NIOCore
import NIOPosix

/// `kafkatape-bench relay LISTEN_PORT UPSTREAM_PORT`: the floor for the proxy benchmark. A bare TCP
/// relay on SwiftNIO with the proxy's threading (one event loop per core, both sides of a connection
/// on the same loop, TCP_NODELAY, flush at the end of each read burst) and nothing else: no framing,
/// no correlation tracking, no capture, no address rewriting (the broker behind it must advertise the
/// relay's port). What `record` costs above this is KafkaTape's own work.
///
/// With `--tee FILE` it also appends every byte it forwards, both ways, to FILE on the event loop, as it
/// reads them, through the same file sink a capture segment uses (`FileCaptureStorage`: blocks
/// preallocated, written back and dropped from the page cache 4 MiB behind): the floor for capture on.
/// That is the least any capture can do (one `write(2)`, one copy into the page cache per byte moved;
/// no framing, no record headers or checksums, no writer thread), so `record` with capture on cannot
/// cost less than it.
enum Relay {
    final class Glue: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var partner: Glue?
        var context: ChannelHandlerContext?
        var pending: [ByteBuffer] = []
        /// The file every forwarded byte is appended to, if any.
        let tee: Tee?

        init(tee: Tee? = nil) { self.tee = tee }

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            tee?.append(buffer)
            partner?.send(buffer)
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

    /// A capture segment sink shared by the event loops (one lock per write; the loops seldom meet).
    final class Tee: @unchecked Sendable {
        private let lock = NSLock()
        private let sink: any CaptureSegmentSink

        init(path: String) throws {
            sink = try FileCaptureStorage().createSegment(path: path, overwrite: true)
        }

        /// Writes all of `buffer`; a failed write ends the process (a benchmark must not go on measuring a
        /// floor that stopped writing).
        func append(_ buffer: ByteBuffer) {
            lock.lock()
            defer { lock.unlock() }
            do {
                try buffer.withUnsafeReadableBytes { (raw) throws(CaptureError) in try sink.write(raw) }
            } catch {
                fatalError("relay --tee: \(error)")
            }
        }
    }

    static func run(listenPort: Int, upstreamPort: Int, teePath: String? = nil) throws {
        let tee = try teePath.map { try Tee(path: $0) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { client in
                let clientGlue = Glue(tee: tee)
                let upstreamGlue = Glue(tee: tee)
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
        print("relay: listening on 127.0.0.1:\(server.localAddress?.port ?? listenPort), upstream 127.0.0.1:\(upstreamPort)\(teePath.map { ", tee \($0)" } ?? "")")
        try server.closeFuture.wait()
    }
}
