import NIOCore

/// A Kafka frame's size prefix was negative or larger than allowed.
public struct KafkaFramingError: Error, Hashable, CustomStringConvertible, Sendable {
    /// The size the frame's prefix announced.
    public var declaredSize: Int32
    /// The limit it was checked against.
    public var maxFrameBytes: Int

    /// The error for a prefix of `declaredSize` against a limit of `maxFrameBytes`.
    @inlinable
    public init(declaredSize: Int32, maxFrameBytes: Int) {
        self.declaredSize = declaredSize
        self.maxFrameBytes = maxFrameBytes
    }

    /// One line: the size and why it is refused.
    public var description: String {
        declaredSize < 0
            ? "invalid frame size \(declaredSize) (negative)"
            : "frame size \(declaredSize) exceeds the limit of \(maxFrameBytes) bytes"
    }
}

/// Splits a byte stream into Kafka frames: INT32 size, then that many bytes. The size is checked
/// against `maxFrameBytes` before anything is sliced or allocated; a frame is returned only once
/// all of it has arrived, as a slice of the input (no copy).
public struct KafkaFramer: Sendable {
    /// 100 MiB, the default of Kafka's `socket.request.max.bytes`: a broker refuses larger requests anyway.
    public static let defaultMaxFrameBytes = 100 * 1024 * 1024

    /// The largest payload accepted; a larger prefix is an error before anything is buffered for it.
    public var maxFrameBytes: Int

    /// A framer that refuses frames over `maxFrameBytes`.
    public init(maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// The next complete frame's payload (without the size prefix), or nil when more bytes are needed.
    @inlinable
    public func next(from buffer: inout ByteBuffer) throws(KafkaFramingError) -> ByteBuffer? {
        guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
            return nil
        }
        guard size >= 0, Int(size) <= maxFrameBytes else {
            throw KafkaFramingError(declaredSize: size, maxFrameBytes: maxFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(size) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(size))
    }
}

/// `KafkaFramer` as a NIO decoder: emits each frame payload as a `ByteBuffer`.
public struct KafkaFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// One frame payload, without its size prefix.
    public typealias InboundOut = ByteBuffer

    /// The framer that does the work.
    public var framer: KafkaFramer

    /// A decoder that refuses frames over `maxFrameBytes`.
    public init(maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes) {
        framer = KafkaFramer(maxFrameBytes: maxFrameBytes)
    }

    /// The next complete frame, or nil until all of it has arrived; throws `KafkaFramingError` on a bad size.
    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try framer.next(from: &buffer)
    }

    /// At EOF, as `decode`: complete frames only; a trailing partial frame is never delivered.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

/// Writes the size prefix in front of a payload.
public struct KafkaFrameEncoder: MessageToByteEncoder {
    /// A frame payload, without its size prefix.
    public typealias OutboundIn = ByteBuffer

    /// The encoder has no settings.
    public init() {}

    /// Writes the int32 size, then the payload.
    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(Int32(data.readableBytes), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}
