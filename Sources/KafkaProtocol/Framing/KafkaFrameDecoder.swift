import NIOCore

/// A Kafka frame's size prefix was negative or larger than allowed.
public struct KafkaFramingError: Error, Hashable, CustomStringConvertible, Sendable {
    public var declaredSize: Int32
    public var maxFrameBytes: Int

    @inlinable
    public init(declaredSize: Int32, maxFrameBytes: Int) {
        self.declaredSize = declaredSize
        self.maxFrameBytes = maxFrameBytes
    }

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
    public static let defaultMaxFrameBytes = 100 * 1024 * 1024

    public var maxFrameBytes: Int

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
    public typealias InboundOut = ByteBuffer

    public var framer: KafkaFramer

    public init(maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes) {
        framer = KafkaFramer(maxFrameBytes: maxFrameBytes)
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        try framer.next(from: &buffer)
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

/// Writes the size prefix in front of a payload.
public struct KafkaFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = ByteBuffer

    public init() {}

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(Int32(data.readableBytes), endianness: .big)
        out.writeImmutableBuffer(data)
    }
}
