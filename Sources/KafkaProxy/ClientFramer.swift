import KafkaProtocol
import NIOCore

/// The client side's framing: splits the byte stream into frames (passed on as `channelRead`s to the
/// client `ProxySideHandler`), and accounts for the incomplete frame it holds: its declared size is
/// reserved from the proxy-wide `BufferBudget` while it is incomplete, and the connection hears after
/// every read whether a partial frame is left (the frame-completion timeout runs while one is).
///
/// Lets go of the connection in `handlerRemoved`, like swift-nio-examples' GlueHandler, so nothing of a
/// closed connection outlives its channel; the reservation goes back to the budget there too.
final class ClientFramer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private(set) var connection: ProxyConnection?
    private let framer: KafkaFramer
    private var cumulation: ByteBuffer?
    /// What the incomplete frame holds of the budget.
    private var reservation = FrameReservation()
    /// After a framing error or a refused frame nothing more is read into frames.
    private var stopped = false

    init(connection: ProxyConnection, maxFrameBytes: Int) {
        self.connection = connection
        framer = KafkaFramer(maxFrameBytes: maxFrameBytes)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        _ = reservation.settle(0, connection: connection, side: .client)
        cumulation = nil
        connection = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !stopped else { return }
        var chunk = unwrapInboundIn(data)
        var buffer: ByteBuffer
        if var held = cumulation, held.readableBytes > 0 {
            cumulation = nil
            held.writeBuffer(&chunk)
            buffer = held
        } else {
            buffer = chunk
        }
        do {
            while let frame = try framer.next(from: &buffer) {
                context.fireChannelRead(wrapInboundOut(frame))
                // A frame handed on may have closed the connection (a fault, a refused frame).
                if stopped || connection == nil { return }
            }
        } catch {
            stopped = true
            cumulation = nil
            context.fireErrorCaught(error)
            return
        }
        // What the incomplete frame will need, once whole: nothing until its size prefix is in.
        let needed = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self).map { Int($0) + 4 } ?? 0
        guard reservation.settle(needed, connection: connection, side: .client) else {
            stopped = true
            cumulation = nil
            return
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            // Room for the whole frame at once: growing by doubling could hold up to twice what the
            // budget counts.
            if needed > 0 { buffer.reserveCapacity(needed) }
            cumulation = buffer
        }
        connection?.bytesRead(from: .client, partialFrame: buffer.readableBytes > 0)
    }
}
