import NIOCore

/// One accepted connection: frames in, recorded answers out, in request order even when some are
/// held for their recorded latency.
final class ServeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let server: CaptureServer
    let connectionId: UInt64
    /// When the last queued answer goes out; later answers never overtake it.
    var lastDeadline = NIODeadline.uptimeNanoseconds(0)

    init(server: CaptureServer, connectionId: UInt64) {
        self.server = server
        self.connectionId = connectionId
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        switch server.reply(to: payload, connectionId: connectionId) {
        case .none:
            return
        case .close:
            context.close(promise: nil)
        case .respond(let body, let delayNs):
            var frame = context.channel.allocator.buffer(capacity: body.readableBytes + 4)
            frame.writeInteger(Int32(truncatingIfNeeded: body.readableBytes), endianness: .big)
            frame.writeImmutableBuffer(body)
            let now = NIODeadline.now()
            let deadline = max(now + .nanoseconds(delayNs), lastDeadline)
            lastDeadline = deadline
            if deadline <= now {
                context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            } else {
                let channel = context.channel
                let held = frame
                context.eventLoop.scheduleTask(deadline: deadline) {
                    channel.writeAndFlush(held, promise: nil)
                }
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        server.connectionClosed(connectionId)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
