import KafkaProtocol
import NIOCore

/// The upstream side's framing, with cut-through for large responses. A response of at least
/// `cutThroughMinBytes` that the proxy passes on unchanged (no fault staged, no addresses to rewrite,
/// nothing held back before it) is forwarded to the client as its bytes arrive, instead of after its
/// last byte; the whole frame still goes to the capture, once complete. Without this a 1 MB Fetch
/// response waits for its last byte at the proxy before the client sees its first one. Every other
/// response is handed to the connection as a whole frame. Sits before the upstream `ProxySideHandler`
/// and consumes every read (it never fires `channelRead` on).
///
/// An incomplete frame (streamed or not) holds its declared size of the proxy-wide `BufferBudget`:
/// the streamed one is still copied whole for the capture. The connection is let go in
/// `handlerRemoved`, with the reservation.
final class UpstreamFramer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Smaller frames nearly always arrive in one read: streaming them would gain nothing.
    static let cutThroughMinBytes = 32 * 1024

    private(set) var connection: ProxyConnection?
    var framer: KafkaFramer
    /// Bytes of an incomplete frame that is not being streamed.
    var cumulation: ByteBuffer?
    /// The frame being streamed: bytes still to come, and its payload so far (for the capture).
    var streaming: (remaining: Int, frame: ByteBuffer)?
    /// What the incomplete frame holds of the budget.
    private var reservation = FrameReservation()
    private var stopped = false

    init(connection: ProxyConnection, maxFrameBytes: Int) {
        self.connection = connection
        framer = KafkaFramer(maxFrameBytes: maxFrameBytes)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        _ = reservation.settle(0, connection: connection, side: .upstream)
        cumulation = nil
        streaming = nil
        connection = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !stopped else { return }
        var chunk = unwrapInboundIn(data)
        do {
            try consume(&chunk, allocator: context.channel.allocator)
        } catch {
            stopped = true
            cumulation = nil
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let s = streaming {
            connection?.streamedResponseCut(received: s.frame.readableBytes, missing: s.remaining)
            streaming = nil
        }
        context.fireChannelInactive()
    }

    /// Holds `needed` bytes of the budget for the incomplete frame; false when refused.
    private func settle(needed: Int) -> Bool {
        guard reservation.settle(needed, connection: connection, side: .upstream) else {
            stopped = true
            cumulation = nil
            streaming = nil
            return false
        }
        return true
    }

    private func consume(_ chunk: inout ByteBuffer, allocator: ByteBufferAllocator) throws {
        guard let connection else { return }
        if var s = streaming, let part = chunk.readSlice(length: min(s.remaining, chunk.readableBytes)) {
            // `s` must hold the only reference to the frame, or every append copies all of it.
            streaming = nil
            connection.forwardStreamed(part)
            s.frame.writeImmutableBuffer(part)
            s.remaining -= part.readableBytes
            if s.remaining > 0 {
                streaming = s
                connection.bytesRead(from: .upstream, partialFrame: true)
                return
            }
            connection.frameFromUpstream(s.frame, forwarded: true)
            _ = settle(needed: 0)
        }
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
            if stopped || self.connection == nil { return }
        }
        // What the incomplete frame will need, once whole: nothing until its size prefix is in.
        let declared = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self).map(Int.init)
        guard settle(needed: declared.map { $0 + 4 } ?? 0) else { return }
        // An incomplete frame (its size is valid: the framer checked it). Stream it if it is large
        // and will be passed on unchanged.
        if buffer.readableBytes >= 8, let size = declared, size >= Self.cutThroughMinBytes,
            let correlationId = buffer.getInteger(at: buffer.readerIndex + 4, as: Int32.self),
            connection.mayCutThrough(correlationId: correlationId)
        {
            buffer.moveReaderIndex(forwardBy: 4)
            let first = buffer.readSlice(length: buffer.readableBytes) ?? ByteBuffer()
            connection.startStreamed(size: Int32(size), first: first)
            var frame = allocator.buffer(capacity: size)
            frame.writeImmutableBuffer(first)
            streaming = (size - first.readableBytes, frame)
            connection.bytesRead(from: .upstream, partialFrame: true)
            return
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            // Room for the whole frame at once: growing by doubling could hold up to twice what the
            // budget counts.
            if let declared { buffer.reserveCapacity(declared + 4) }
            cumulation = buffer
        }
        connection.bytesRead(from: .upstream, partialFrame: buffer.readableBytes > 0)
    }
}
