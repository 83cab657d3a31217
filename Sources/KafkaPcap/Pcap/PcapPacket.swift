/// One captured packet as libpcap hands it over: link-layer header included, possibly cut short by
/// the snapshot length (`data.count < originalLength`).
///
/// `data` points into libpcap's buffer and is valid only until the next read from the same reader
/// or capture; copy what you keep.
public struct PcapPacket {
    /// Nanoseconds since the Unix epoch (readers open files with nanosecond precision).
    public var timestampNs: Int64
    /// The packet's length on the wire.
    public var originalLength: Int
    /// The captured bytes.
    public var data: UnsafeRawBufferPointer

    /// A packet from its fields.
    public init(timestampNs: Int64, originalLength: Int, data: UnsafeRawBufferPointer) {
        self.timestampNs = timestampNs
        self.originalLength = originalLength
        self.data = data
    }
}
