import KafkaProtocol
import NIOCore

/// The client side's framing, with cut-through for large requests. A request of at least
/// `cutThroughMinBytes` that nothing needs whole before it goes upstream (see
/// `ProxyConnection.mayCutThroughRequest`) is forwarded to the broker as its bytes arrive, instead of
/// after its last byte; the whole frame still goes to the connection once complete, for the
/// bookkeeping and the capture (credentials are redacted there, from the whole frame). Without this a
/// 1 MB Produce waits for its last byte at the proxy before the broker sees its first one. Every other
/// request is passed on as a whole frame (`channelRead`s to the client `ProxySideHandler`).
///
/// An incomplete frame (streamed or not) holds its declared size of the proxy-wide `BufferBudget`
/// from the moment its size prefix is in: the streamed one is still copied whole for the capture. The
/// connection hears after every read whether a partial frame is left (the frame-completion timeout
/// runs while one is).
///
/// Lets go of the connection in `handlerRemoved`, like swift-nio-examples' GlueHandler, so nothing of a
/// closed connection outlives its channel; the reservation goes back to the budget there too.
final class ClientFramer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Smaller frames nearly always arrive in one read: streaming them would gain nothing.
    static let cutThroughMinBytes = UpstreamFramer.cutThroughMinBytes

    private(set) var connection: ProxyConnection?
    private let framer: KafkaFramer
    private var cumulation: ByteBuffer?
    /// The frame being streamed: bytes still to come, and its payload so far (for the capture).
    private var streaming: (remaining: Int, frame: ByteBuffer)?
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
        streaming = nil
        connection = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let s = streaming {
            connection?.streamedRequestCut(received: s.frame.readableBytes, missing: s.remaining)
            streaming = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !stopped, let connection else { return }
        var chunk = unwrapInboundIn(data)
        if var s = streaming, let part = chunk.readSlice(length: min(s.remaining, chunk.readableBytes)) {
            // `s` must hold the only reference to the frame, or every append copies all of it.
            streaming = nil
            connection.forwardStreamedRequest(part)
            s.frame.writeImmutableBuffer(part)
            s.remaining -= part.readableBytes
            if s.remaining > 0 {
                streaming = s
                connection.bytesRead(from: .client, partialFrame: true)
                return
            }
            connection.frameFromClient(s.frame, forwarded: true)
            guard settle(needed: 0), !stopped, self.connection != nil else { return }
        }
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
                if stopped || self.connection == nil { return }
            }
        } catch {
            stopped = true
            cumulation = nil
            context.fireErrorCaught(error)
            return
        }
        // What the incomplete frame will need, once whole: nothing until its size prefix is in.
        let declared = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self).map(Int.init)
        guard settle(needed: declared.map { $0 + 4 } ?? 0) else { return }
        // An incomplete frame (its size is valid: the framer checked it). Stream it if it is large and
        // nothing needs it whole before it goes upstream; the API key is in once 6 bytes are.
        if buffer.readableBytes >= 6, let size = declared, size >= Self.cutThroughMinBytes,
            let apiKey = buffer.getInteger(at: buffer.readerIndex + 4, endianness: .big, as: Int16.self),
            connection.mayCutThroughRequest(apiKey: apiKey)
        {
            buffer.moveReaderIndex(forwardBy: 4)
            let first = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
            connection.startStreamedRequest(size: Int32(size), first: first)
            var frame = context.channel.allocator.buffer(capacity: size)
            frame.writeImmutableBuffer(first)
            streaming = (size - first.readableBytes, frame)
            connection.bytesRead(from: .client, partialFrame: true)
            return
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            // Room for the whole frame at once: growing by doubling could hold up to twice what the
            // budget counts.
            if let declared { buffer.reserveCapacity(declared + 4) }
            cumulation = buffer
        }
        connection.bytesRead(from: .client, partialFrame: buffer.readableBytes > 0)
    }

    /// Holds `needed` bytes of the budget for the incomplete frame; false when refused.
    private func settle(needed: Int) -> Bool {
        guard reservation.settle(needed, connection: connection, side: .client) else {
            stopped = true
            cumulation = nil
            streaming = nil
            return false
        }
        return true
    }
}
