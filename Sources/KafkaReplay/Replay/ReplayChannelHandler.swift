import NIOCore

/// Frames from the target to the engine (the engine learns of the close from the channel's close future).
final class ReplayChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let engine: ReplayEngine
    let index: Int

    init(engine: ReplayEngine, index: Int) {
        self.engine = engine
        self.index = index
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        engine.responseArrived(index, payload: unwrapInboundIn(data), channel: context.channel)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
