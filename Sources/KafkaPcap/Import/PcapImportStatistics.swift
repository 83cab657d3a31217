/// What an import (or a live sniff) found.
public struct PcapImportStatistics: Hashable, Sendable {
    /// Packets read, and of them TCP segments decoded.
    public var packets = 0
    /// TCP segments decoded.
    public var tcpSegments = 0
    /// Packets not decoded as TCP, by reason.
    public var skippedPackets: [PacketSkipReason: Int] = [:]
    /// TCP payload bytes captured (retransmissions included).
    public var payloadBytes: Int64 = 0
    /// Kafka connections written to the capture.
    public var connections = 0
    /// TCP flows on no broker port that did not look like Kafka.
    public var ignoredFlows = 0
    /// Frames written, by direction; `truncatedFrames` of them hold only a frame's first bytes.
    public var requests = 0
    /// Response frames written.
    public var responses = 0
    /// Frames of which only the first bytes were captured.
    public var truncatedFrames = 0
    /// Holes in streams: bytes that never reached the capture.
    public var gaps = 0
    /// Bytes missing in those holes.
    public var gapBytes: Int64 = 0
    /// Bytes skipped looking for a frame boundary (mid-stream starts, after gaps and bad sizes).
    public var skippedBytes: Int64 = 0
    /// Streams that had to look for a frame boundary, and how many found one.
    public var resyncs = 0
    /// Resynchronisations that found a frame boundary.
    public var resyncsFound = 0
    /// Frame size prefixes that could not be right.
    public var implausibleSizes = 0
    /// Retransmitted or duplicated bytes dropped, and segments that arrived out of order.
    public var duplicateBytes: Int64 = 0
    /// Segments that arrived ahead of a hole.
    public var outOfOrderSegments = 0
    /// Broker ports recognised from traffic (not given).
    public var detectedBrokerPorts: [UInt16] = []

    /// All counters at zero.
    public init() {}

    /// Frames of both directions.
    public var frames: Int { requests + responses }
}
