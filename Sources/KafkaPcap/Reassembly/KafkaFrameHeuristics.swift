import KafkaProtocol
import NIOCore

/// Whether bytes at a position look like the start of a Kafka frame (size prefix and header).
/// Used to find frame boundaries in a stream joined mid-way and to recognise Kafka traffic on
/// ports nobody named.
public enum FrameStartPlausibility: Hashable, Sendable {
    /// Not a frame start.
    case no
    /// Could be; more bytes are needed to tell.
    case needMore
    /// Looks like a frame of `size` bytes (after the 4-byte size prefix).
    case yes(size: Int)
}

/// The checks behind resynchronisation. A request is plausible when its size is at least a
/// request header and at most `maxSize`, its api key is one Kafka defines, its version is within the
/// versions the codec knows (plus a margin of 3 for clients newer than the specs), its correlation id
/// is non-negative, and (request header v1+) its client id length fits the frame.
public enum KafkaFrameHeuristics {
    /// Versions beyond the newest the codec knows that still count as plausible.
    public static let versionMargin: Int16 = 3

    /// Checks a request frame start at `index` of `buffer` (absolute index).
    public static func request(in buffer: ByteBuffer, at index: Int, maxSize: Int) -> FrameStartPlausibility {
        let available = buffer.writerIndex - index
        guard available >= 4, let size = buffer.getInteger(at: index, endianness: .big, as: Int32.self) else { return .needMore }
        guard size >= 8, Int(size) <= maxSize else { return .no }
        guard available >= 6, let key = buffer.getInteger(at: index + 4, endianness: .big, as: Int16.self) else { return .needMore }
        guard let api = KafkaAPIs.descriptor(apiKey: key) else { return .no }
        guard available >= 8, let version = buffer.getInteger(at: index + 6, endianness: .big, as: Int16.self) else { return .needMore }
        guard version >= api.versions.lowerBound, version <= api.versions.upperBound + versionMargin else { return .no }
        guard available >= 12, let correlation = buffer.getInteger(at: index + 8, endianness: .big, as: Int32.self) else { return .needMore }
        guard correlation >= 0 else { return .no }
        if api.requestHeaderVersion(version) >= 1 {
            guard available >= 14, let clientIdLength = buffer.getInteger(at: index + 12, endianness: .big, as: Int16.self) else {
                return .needMore
            }
            guard clientIdLength == -1 || (clientIdLength >= 0 && 10 + Int(clientIdLength) <= Int(size)) else { return .no }
        }
        return .yes(size: Int(size))
    }

    /// Checks a response frame start: a sane size and a correlation id `expected` accepts.
    public static func response(
        in buffer: ByteBuffer, at index: Int, maxSize: Int, expected: (Int32) -> Bool
    ) -> FrameStartPlausibility {
        let available = buffer.writerIndex - index
        guard available >= 4, let size = buffer.getInteger(at: index, endianness: .big, as: Int32.self) else { return .needMore }
        guard size >= 4, Int(size) <= maxSize else { return .no }
        guard available >= 8, let correlation = buffer.getInteger(at: index + 4, endianness: .big, as: Int32.self) else { return .needMore }
        return expected(correlation) ? .yes(size: Int(size)) : .no
    }

    /// Whether `bytes` (a packet's payload) begins with a plausible request frame: how a flow on a
    /// port nobody named is recognised as Kafka.
    public static func startsWithRequest(_ bytes: UnsafeRawBufferPointer, maxSize: Int = KafkaFramer.defaultMaxFrameBytes) -> Bool {
        guard bytes.count >= 14 else { return false }
        var b = ByteBuffer()
        b.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<14]))
        if case .yes = request(in: b, at: 0, maxSize: maxSize) { return true }
        return false
    }
}
