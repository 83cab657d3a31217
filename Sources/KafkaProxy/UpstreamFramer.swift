import KafkaProtocol
import NIOCore

/// The upstream side's framing, with cut-through for large responses. A response of at least
/// `cutThroughMinBytes` that the proxy passes on unchanged (no fault staged, no addresses to rewrite,
/// nothing held back before it) is forwarded to the client as its bytes arrive, instead of after its
/// last byte; the whole frame still goes to the capture, once complete. Without this a 1 MB Fetch
/// response waits for its last byte at the proxy before the client sees its first one. Every other
/// response is handed to the connection as a whole frame. Sits before the upstream `ProxySideHandler`
/// and consumes every read (it never fires `channelRead` on).
final class UpstreamFramer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Smaller frames nearly always arrive in one read: streaming them would gain nothing.
    static let cutThroughMinBytes = 32 * 1024

    let connection: ProxyConnection
    var framer: KafkaFramer
    /// Bytes of an incomplete frame that is not being streamed.
    var cumulation: ByteBuffer?
    /// The frame being streamed: bytes still to come, and its payload so far (for the capture).
    var streaming: (remaining: Int, frame: ByteBuffer)?

    init(connection: ProxyConnection, maxFrameBytes: Int) {
        self.connection = connection
        framer = KafkaFramer(maxFrameBytes: maxFrameBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        do {
            try consume(&chunk, allocator: context.channel.allocator)
        } catch {
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let s = streaming {
            connection.streamedResponseCut(received: s.frame.readableBytes, missing: s.remaining)
            streaming = nil
        }
        context.fireChannelInactive()
    }

    private func consume(_ chunk: inout ByteBuffer, allocator: ByteBufferAllocator) throws {
        if var s = streaming, let part = chunk.readSlice(length: min(s.remaining, chunk.readableBytes)) {
            // `s` must hold the only reference to the frame, or every append copies all of it.
            streaming = nil
            connection.forwardStreamed(part)
            s.frame.writeImmutableBuffer(part)
            s.remaining -= part.readableBytes
            if s.remaining > 0 {
                streaming = s
                return
            }
            connection.frameFromUpstream(s.frame, forwarded: true)
        }
        guard chunk.readableBytes > 0 else { return }
        var buffer: ByteBuffer
        if var held = cumulation, held.readableBytes > 0 {
            cumulation = nil
            held.writeBuffer(&chunk)
            buffer = held
        } else {
            buffer = chunk
        }
        while let frame = try framer.next(from: &buffer) {
            connection.frameFromUpstream(frame)
        }
        // An incomplete frame (its size is valid: the framer checked it). Stream it if it is large
        // and will be passed on unchanged.
        if buffer.readableBytes >= 8, let size = buffer.getInteger(at: buffer.readerIndex, as: Int32.self),
            Int(size) >= Self.cutThroughMinBytes,
            let correlationId = buffer.getInteger(at: buffer.readerIndex + 4, as: Int32.self),
            connection.mayCutThrough(correlationId: correlationId)
        {
            buffer.moveReaderIndex(forwardBy: 4)
            let first = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
            connection.startStreamed(size: size, first: first)
            var frame = allocator.buffer(capacity: Int(size))
            frame.writeImmutableBuffer(first)
            streaming = (Int(size) - first.readableBytes, frame)
            return
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            cumulation = buffer
        }
    }
}
