/// Why a TCP stream has bytes that will never arrive.
public enum TcpGapReason: String, Hashable, Sendable, CustomStringConvertible {
    /// The receiver acknowledged bytes the capture never held (the capture dropped packets).
    case acknowledgedNotCaptured = "acknowledged but not captured"
    /// Out-of-order data waited behind a hole longer than the buffer limit allows.
    case bufferLimit = "out-of-order buffer limit reached"
    /// Out-of-order data waited behind a hole longer than the hold time.
    case holdTimeout = "hole not filled within the hold time"
    /// The packet was cut by the capture's snapshot length.
    case notCaptured = "cut by the snapshot length"
    /// The connection was reset with a hole in the stream.
    case reset = "connection reset"
    /// The capture ended with a hole in the stream.
    case captureEnded = "capture ended"

    public var description: String { rawValue }
}

/// Receives one direction's reassembled byte stream from a `TcpReassembler`, in stream order.
public protocol TcpStreamSink {
    /// The next in-order bytes. The pointer is valid only during the call.
    mutating func streamBytes(_ bytes: UnsafeRawBufferPointer, timestampNs: Int64)
    /// `length` bytes at the current position are missing and will never arrive.
    mutating func streamGap(_ length: Int, timestampNs: Int64, reason: TcpGapReason)
}
