/// Reassembles one direction of a TCP connection into its byte stream: a state machine over
/// sequence numbers (RFC 9293 §3.4) that delivers bytes in order exactly once.
///
/// - In-order data is delivered at once, without a copy.
/// - Retransmitted bytes are dropped; a segment overlapping delivered bytes is trimmed (the first
///   copy of a byte wins).
/// - Out-of-order segments wait in a buffer (copied) until the hole before them fills.
/// - A hole becomes a **gap** (the sink is told how many bytes are missing, never given invented
///   ones) when the peer acknowledged past it (the capture dropped the packets): at once when the
///   peer then sends data of its own (`resolveAcknowledged`, so a truncated request is recorded
///   before its response), else once the acknowledgement is `acknowledgementGraceNs` old (captures
///   taken on multi-queue interfaces can show an ACK a little before the data it acknowledges).
///   Also when the buffer exceeds `maxBufferedBytes` or `maxBufferedSegments`, when the oldest
///   waiting segment is older than `holdTimeNs`, and on `flush` (reset, end of capture).
/// - Without a SYN, the first segment with data sets the starting sequence number (a capture that
///   began mid-connection).
///
/// Sequence numbers are compared modulo 2^32 relative to the next expected one, so wraparound is
/// handled; a segment more than 2^30 bytes away from it is counted as implausible and dropped.
public struct TcpReassembler: Sendable {
    /// Limits that bound memory and decide when a hole is given up.
    public struct Configuration: Hashable, Sendable {
        /// Out-of-order bytes kept while waiting for a hole to fill.
        public var maxBufferedBytes: Int
        /// Out-of-order segments kept while waiting for a hole to fill.
        public var maxBufferedSegments: Int
        /// How long (capture time) out-of-order data waits before the hole is declared a gap.
        public var holdTimeNs: Int64
        /// How long (capture time) after the peer acknowledged a hole it is declared a gap, unless
        /// the peer sends data first.
        public var acknowledgementGraceNs: Int64

        /// Limits; the defaults are those of `pcap import`.
        public init(
            maxBufferedBytes: Int = 4 << 20, maxBufferedSegments: Int = 8192, holdTimeNs: Int64 = 10_000_000_000,
            acknowledgementGraceNs: Int64 = 10_000_000
        ) {
            self.maxBufferedBytes = maxBufferedBytes
            self.maxBufferedSegments = maxBufferedSegments
            self.holdTimeNs = holdTimeNs
            self.acknowledgementGraceNs = acknowledgementGraceNs
        }
    }

    /// Counters of what the reassembler saw.
    public struct Statistics: Hashable, Sendable {
        /// Bytes handed to the sink.
        public var deliveredBytes: Int64 = 0
        /// Bytes received again after they were delivered (retransmissions, keep-alive probes).
        public var duplicateBytes: Int64 = 0
        /// Segments that arrived ahead of a hole.
        public var outOfOrderSegments = 0
        /// Holes declared missing, and their bytes.
        public var gaps = 0
        /// Bytes in those holes.
        public var gapBytes: Int64 = 0
        /// Segments too far from the expected sequence number to belong to this stream.
        public var implausibleSegments = 0
    }

    private struct Waiting {
        var offset: Int64
        var data: [UInt8]
        /// Bytes after `data` that the capture did not hold (snapshot length).
        var missing: Int
        var timestampNs: Int64
        var length: Int { data.count + missing }
    }

    /// The limits the reassembler was made with.
    public let configuration: Configuration
    /// Counters so far.
    public private(set) var statistics = Statistics()
    /// Whether the starting sequence number is known (from a SYN or the first data segment).
    public private(set) var isSynchronized = false
    /// Whether the stream started with a SYN (so its first byte is the first byte sent).
    public private(set) var sawSyn = false
    /// The stream offset of the next byte to deliver (delivered bytes plus gaps).
    public private(set) var offset: Int64 = 0
    /// The stream offset of the FIN, once one was seen.
    public private(set) var finOffset: Int64?
    private var nextSequence: UInt32 = 0
    /// Waiting segments, sorted by offset **descending** so the lowest is `last`.
    private var waiting: [Waiting] = []
    private var waitingBytes = 0
    private var acknowledgedOffset: Int64?
    private var acknowledgedAtNs: Int64 = 0

    /// A reassembler for one direction, not yet synchronised.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Bytes waiting behind a hole.
    public var bufferedBytes: Int { waitingBytes }

    /// Whether every byte up to the FIN has been delivered (or declared missing).
    public var isFinished: Bool {
        guard let finOffset else { return false }
        return offset >= finOffset
    }

    /// A SYN from this direction's sender: the stream starts at `initialSequenceNumber + 1`.
    /// Ignored once data has been seen (a retransmitted SYN).
    public mutating func synchronize(initialSequenceNumber: UInt32) {
        guard !isSynchronized || (offset == 0 && waiting.isEmpty && statistics.deliveredBytes == 0) else { return }
        nextSequence = initialSequenceNumber &+ 1
        isSynchronized = true
        sawSyn = true
    }

    /// A segment from this direction's sender.
    ///
    /// - Parameters:
    ///   - payload: The captured payload.
    ///   - missingBytes: Payload bytes after `payload` that the capture cut off (snapshot length).
    ///   - fin: The segment carries FIN.
    public mutating func receive<Sink: TcpStreamSink>(
        sequenceNumber: UInt32, payload: UnsafeRawBufferPointer, missingBytes: Int = 0, fin: Bool = false,
        timestampNs: Int64, into sink: inout Sink
    ) {
        let length = payload.count + missingBytes
        if !isSynchronized {
            guard length > 0 else { return }
            nextSequence = sequenceNumber
            isSynchronized = true
        }
        let delta = Int64(Int32(bitPattern: sequenceNumber &- nextSequence))
        guard abs(delta) < 1 << 30 else {
            statistics.implausibleSegments += 1
            return
        }
        let start = offset + delta
        if fin && finOffset == nil {
            let fin = start + Int64(length)
            finOffset = fin
            // The peer's ACK of the FIN can be captured before the FIN itself (loopback captures on
            // several CPUs reorder packets): the FIN's sequence number is not a byte of the stream.
            if let a = acknowledgedOffset, a > fin { acknowledgedOffset = fin }
        }
        guard length > 0 else {
            enforceLimits(timestampNs: timestampNs, into: &sink)
            return
        }
        let end = start + Int64(length)
        if end <= offset {
            statistics.duplicateBytes += Int64(length)
            return
        }
        if start <= offset {
            deliver(payload, missing: missingBytes, skip: Int(offset - start), timestampNs: timestampNs, into: &sink)
            drain(timestampNs: timestampNs, into: &sink)
        } else {
            statistics.outOfOrderSegments += 1
            insert(Waiting(offset: start, data: Array(payload), missing: missingBytes, timestampNs: timestampNs))
        }
        enforceLimits(timestampNs: timestampNs, into: &sink)
    }

    /// The peer acknowledged everything before `acknowledgmentNumber` (an ACK travelling the other
    /// way). Holes below it will never be retransmitted: bytes the capture missed. They become gaps
    /// in `expire` after the grace period, or in `resolveAcknowledged`.
    public mutating func acknowledge(_ acknowledgmentNumber: UInt32, timestampNs: Int64) {
        guard isSynchronized else { return }
        let delta = Int64(Int32(bitPattern: acknowledgmentNumber &- nextSequence))
        guard abs(delta) < 1 << 30 else { return }
        var acked = offset + delta
        // The FIN takes one sequence number; it is not a byte of the stream.
        if let finOffset, acked > finOffset { acked = finOffset }
        if acked > (acknowledgedOffset ?? Int64.min) {
            acknowledgedOffset = acked
            acknowledgedAtNs = timestampNs
        }
    }

    /// Declares every acknowledged hole a gap now: the peer sent data after acknowledging it, so it
    /// consumed those bytes and the capture will not see them.
    public mutating func resolveAcknowledged<Sink: TcpStreamSink>(timestampNs: Int64, into sink: inout Sink) {
        guard let acked = acknowledgedOffset, acked > offset else { return }
        while let first = waiting.last, first.offset > offset, acked >= first.offset {
            forceHole(reason: .acknowledgedNotCaptured, timestampNs: timestampNs, into: &sink)
        }
        let end = min(acked, waiting.last?.offset ?? acked)
        if end > offset {
            gap(Int(end - offset), reason: .acknowledgedNotCaptured, timestampNs: timestampNs, into: &sink)
            drain(timestampNs: timestampNs, into: &sink)
        }
    }

    /// Declares holes missing that waited longer than the hold time, or that the peer acknowledged
    /// longer ago than the grace period.
    public mutating func expire<Sink: TcpStreamSink>(now: Int64, into sink: inout Sink) {
        while let first = waiting.last, first.offset > offset {
            if now - first.timestampNs > configuration.holdTimeNs {
                forceHole(reason: .holdTimeout, timestampNs: nil, into: &sink)
            } else if let a = acknowledgedOffset, a >= first.offset, now - acknowledgedAtNs >= configuration.acknowledgementGraceNs {
                forceHole(reason: .acknowledgedNotCaptured, timestampNs: now, into: &sink)
            } else {
                break
            }
        }
    }

    /// Delivers everything still waiting, declaring every hole a gap (the stream ends: reset or end
    /// of capture). A hole the peer acknowledged, or one before a FIN, at the end is a gap too.
    public mutating func flush<Sink: TcpStreamSink>(reason: TcpGapReason, timestampNs: Int64, into sink: inout Sink) {
        while let first = waiting.last {
            if first.offset > offset {
                forceHole(reason: reason, timestampNs: nil, into: &sink)
            } else {
                drain(timestampNs: timestampNs, into: &sink)
            }
        }
        var end = offset
        if let a = acknowledgedOffset { end = max(end, a) }
        if let finOffset { end = max(end, finOffset) }
        if end > offset {
            gap(Int(end - offset), reason: acknowledgedOffset.map { $0 >= end } == true ? .acknowledgedNotCaptured : reason,
                timestampNs: timestampNs, into: &sink)
        }
    }

    // MARK: - Internals

    private mutating func advance(_ n: Int) {
        offset += Int64(n)
        nextSequence = nextSequence &+ UInt32(truncatingIfNeeded: n)
    }

    private mutating func deliver<Sink: TcpStreamSink>(
        _ payload: UnsafeRawBufferPointer, missing: Int, skip: Int, timestampNs: Int64, into sink: inout Sink
    ) {
        if skip < payload.count {
            let bytes = UnsafeRawBufferPointer(rebasing: payload[skip...])
            advance(bytes.count)
            statistics.deliveredBytes += Int64(bytes.count)
            sink.streamBytes(bytes, timestampNs: timestampNs)
        }
        let missingLeft = payload.count + missing - max(skip, payload.count)
        if missingLeft > 0 {
            gap(missingLeft, reason: .notCaptured, timestampNs: timestampNs, into: &sink)
        }
    }

    private mutating func gap<Sink: TcpStreamSink>(_ n: Int, reason: TcpGapReason, timestampNs: Int64, into sink: inout Sink) {
        advance(n)
        statistics.gaps += 1
        statistics.gapBytes += Int64(n)
        sink.streamGap(n, timestampNs: timestampNs, reason: reason)
    }

    /// Delivers waiting segments that start at or before the current offset.
    private mutating func drain<Sink: TcpStreamSink>(timestampNs: Int64?, into sink: inout Sink) {
        while let first = waiting.last, first.offset <= offset {
            waiting.removeLast()
            waitingBytes -= first.data.count
            let end = first.offset + Int64(first.length)
            if end <= offset {
                statistics.duplicateBytes += Int64(first.length)
                continue
            }
            let t = max(first.timestampNs, timestampNs ?? first.timestampNs)
            first.data.withUnsafeBytes { raw in
                deliver(raw, missing: first.missing, skip: Int(offset - first.offset), timestampNs: t, into: &sink)
            }
        }
    }

    /// Declares the hole before the lowest waiting segment missing, then drains.
    private mutating func forceHole<Sink: TcpStreamSink>(reason: TcpGapReason, timestampNs: Int64?, into sink: inout Sink) {
        guard let first = waiting.last else { return }
        if first.offset > offset {
            gap(Int(first.offset - offset), reason: reason, timestampNs: timestampNs ?? first.timestampNs, into: &sink)
        }
        drain(timestampNs: timestampNs, into: &sink)
    }

    private mutating func enforceLimits<Sink: TcpStreamSink>(timestampNs: Int64, into sink: inout Sink) {
        while let first = waiting.last, first.offset > offset {
            if waitingBytes > configuration.maxBufferedBytes || waiting.count > configuration.maxBufferedSegments {
                forceHole(reason: .bufferLimit, timestampNs: timestampNs, into: &sink)
            } else {
                break
            }
        }
    }

    private mutating func insert(_ w: Waiting) {
        // Binary search in the descending array; equal offsets keep the longer segment.
        var lo = 0
        var hi = waiting.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if waiting[mid].offset > w.offset { lo = mid + 1 } else { hi = mid }
        }
        if lo < waiting.count, waiting[lo].offset == w.offset {
            if waiting[lo].length >= w.length {
                statistics.duplicateBytes += Int64(w.length)
                return
            }
            statistics.duplicateBytes += Int64(waiting[lo].length)
            waitingBytes -= waiting[lo].data.count
            waiting[lo] = w
        } else {
            waiting.insert(w, at: lo)
        }
        waitingBytes += w.data.count
    }
}
