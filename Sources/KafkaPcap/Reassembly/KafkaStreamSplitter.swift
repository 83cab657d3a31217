import KafkaProtocol
import NIOCore

/// Turns one direction of a reassembled TCP stream into Kafka frames (INT32 size, then that many
/// bytes: the `KafkaFramer` rule), and copes with what captures do to streams:
///
/// - **Mid-stream start**: a splitter created unsynchronised scans for the first plausible frame
///   boundary (`KafkaFrameHeuristics`) and says how many bytes it skipped. A request candidate must
///   be followed by another plausible request or end exactly where the data ends; a response
///   candidate must carry the correlation id of a request seen on the connection (`expectResponse`).
/// - **Gaps**: inside a frame of known size, the frame so far is emitted `truncated` (if it holds
///   the header) and the splitter stays in sync by skipping the rest of the frame; a gap that
///   crosses a frame boundary or hits a size prefix loses sync and scanning starts again.
/// - **Implausible sizes** (negative, beyond `maxFrameBytes`, shorter than a header) lose sync.
///
/// Frames are slices of the splitter's buffer (no copy); take them with `takeEvents()` after each
/// call and do not keep them past the next one unless copied.
public struct KafkaStreamSplitter: TcpStreamSink {
    /// Which direction the stream carries.
    public enum Role: String, Hashable, Sendable, CustomStringConvertible {
        /// Client to broker.
        case requests = "request"
        /// Broker to client.
        case responses = "response"
        public var description: String { rawValue }
    }

    /// Limits of splitting and resynchronisation.
    public struct Configuration: Hashable, Sendable {
        /// The largest frame accepted in sync (the proxy's default limit).
        public var maxFrameBytes: Int
        /// The largest frame a resynchronisation candidate may claim (bounds the bytes held while
        /// a candidate waits to be confirmed).
        public var maxResyncFrameBytes: Int
        /// Correlation ids of unanswered requests remembered for response resynchronisation.
        public var maxExpectedResponses: Int

        /// Limits; the defaults are those of `pcap import`.
        public init(
            maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes, maxResyncFrameBytes: Int = 16 << 20,
            maxExpectedResponses: Int = 4096
        ) {
            self.maxFrameBytes = maxFrameBytes
            self.maxResyncFrameBytes = maxResyncFrameBytes
            self.maxExpectedResponses = maxExpectedResponses
        }
    }

    /// Why the splitter was looking for a frame boundary.
    public enum ResyncReason: String, Hashable, Sendable, CustomStringConvertible {
        case midStream = "capture started mid-connection"
        case afterGap = "bytes missing from the capture"
        case implausibleSize = "implausible frame size"
        public var description: String { rawValue }
    }

    /// What the splitter found; the importer turns each into capture records.
    public enum Event {
        /// A frame: its payload (without the size prefix), the size prefix, and whether the payload
        /// is only the first bytes of it (a gap cut it).
        case frame(payload: ByteBuffer, wireLength: UInt32, truncated: Bool, timestampNs: Int64)
        /// Bytes missing at `streamOffset`. `truncatedFrame`: a frame in progress was emitted
        /// truncated; `inSync`: the next frame boundary is known despite the gap.
        case gap(streamOffset: Int64, length: Int, reason: TcpGapReason, truncatedFrame: Bool, inSync: Bool, timestampNs: Int64)
        /// Bytes from `streamOffset` that were skipped looking for a frame boundary; `found` says
        /// whether one was found after them (false: the stream ended or a gap came first).
        case skipped(streamOffset: Int64, bytes: Int, reason: ResyncReason, found: Bool, timestampNs: Int64)
        /// A size prefix that cannot be right; the splitter is resynchronising.
        case implausibleSize(streamOffset: Int64, size: Int32, timestampNs: Int64)
        /// The stream ended inside a frame (the part present was emitted truncated when it held
        /// the header).
        case incompleteFrame(streamOffset: Int64, present: Int, size: Int, timestampNs: Int64)
    }

    private enum State {
        case framing
        case skipping(Int)
        case scanning(ResyncReason)
    }

    /// Which direction the stream carries.
    public let role: Role
    /// The limits the splitter was made with.
    public let configuration: Configuration
    private var buffer: ByteBuffer
    private var state: State
    /// Stream offset of `buffer.readerIndex` (or of the next byte while skipping).
    private var bufferOffset: Int64 = 0
    private var scanSkipped = 0
    private var scanStart: Int64 = 0
    private var lastTimestampNs: Int64 = 0
    private var events: [Event] = []
    private var expected: Set<Int32> = []
    private var expectedOrder: CircularBuffer<Int32> = CircularBuffer()

    /// Frames emitted (whole and truncated) and bytes skipped while resynchronising, so far.
    public private(set) var frameCount = 0
    /// Bytes not recorded: skipped while resynchronising, or the start of a frame too short to hold its header.
    public private(set) var skippedBytes: Int64 = 0

    /// - Parameter synchronized: The stream starts at a frame boundary (the connection's SYN was
    ///   seen). Otherwise the splitter first scans for one.
    public init(role: Role, synchronized: Bool, configuration: Configuration = Configuration()) {
        self.role = role
        self.configuration = configuration
        self.buffer = ByteBuffer()
        self.state = synchronized ? .framing : .scanning(.midStream)
    }

    /// Whether the splitter is at known frame boundaries.
    public var isSynchronized: Bool {
        if case .scanning = state { return false }
        return true
    }

    /// A request with this correlation id was seen: a response resynchronisation may accept it.
    public mutating func expectResponse(correlationId: Int32) {
        guard role == .responses, !expected.contains(correlationId) else { return }
        expected.insert(correlationId)
        expectedOrder.append(correlationId)
        if expectedOrder.count > configuration.maxExpectedResponses, let oldest = expectedOrder.popFirst() {
            expected.remove(oldest)
        }
    }

    /// Hands the events produced since the last call to `body`, oldest first, then forgets them
    /// (frame payloads are released, so the buffer can be reused without a copy).
    public mutating func drainEvents<E: Error>(_ body: (Event) throws(E) -> Void) throws(E) {
        defer { events.removeAll(keepingCapacity: true) }
        for event in events { try body(event) }
    }

    /// The events produced since the last call (for tests; `drainEvents` avoids a copy).
    public mutating func takeEvents() -> [Event] {
        let out = events
        events = []
        return out
    }

    /// Whether events are waiting in `takeEvents()`.
    public var hasEvents: Bool { !events.isEmpty }

    // MARK: - TcpStreamSink

    /// Appends in-order stream bytes and splits what it can; frames carry `timestampNs`.
    public mutating func streamBytes(_ bytes: UnsafeRawBufferPointer, timestampNs: Int64) {
        lastTimestampNs = timestampNs
        compact()
        var bytes = bytes
        if case .skipping(let n) = state {
            let k = min(n, bytes.count)
            bufferOffset += Int64(k)
            bytes = UnsafeRawBufferPointer(rebasing: bytes[k...])
            if n > k {
                state = .skipping(n - k)
                return
            }
            state = .framing
        }
        guard !bytes.isEmpty else { return }
        buffer.writeBytes(bytes)
        process(final: false)
    }

    /// Bytes that will never arrive: truncates the frame in progress or resynchronises (see the type's documentation).
    public mutating func streamGap(_ length: Int, timestampNs: Int64, reason: TcpGapReason) {
        lastTimestampNs = timestampNs
        if case .scanning = state {
            // Data before the gap may end in a frame that nothing after it can confirm.
            process(final: true)
        }
        let gapOffset = bufferOffset + Int64(buffer.readableBytes)
        var truncated = false
        var inSync = false
        switch state {
        case .skipping(let n):
            if length <= n {
                state = n - length > 0 ? .skipping(n - length) : .framing
                inSync = true
            } else {
                beginScan(.afterGap, at: gapOffset + Int64(length))
            }
        case .framing:
            let present = buffer.readableBytes
            if present >= 4, let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) {
                truncated = emitTruncated(size: Int(size), present: present)
                let rest = 4 + Int(size) - present
                if length <= rest {
                    state = rest - length > 0 ? .skipping(rest - length) : .framing
                    inSync = true
                } else {
                    beginScan(.afterGap, at: gapOffset + Int64(length))
                }
            } else {
                skippedBytes += Int64(present)
                if present > 0 {
                    events.append(.skipped(streamOffset: bufferOffset, bytes: present, reason: .afterGap, found: false, timestampNs: timestampNs))
                }
                beginScan(.afterGap, at: gapOffset + Int64(length))
            }
        case .scanning(let why):
            endScan(found: false)
            beginScan(why == .midStream ? .midStream : .afterGap, at: gapOffset + Int64(length))
        }
        discardBuffered()
        bufferOffset = gapOffset + Int64(length)
        events.append(.gap(streamOffset: gapOffset, length: length, reason: reason, truncatedFrame: truncated, inSync: inSync, timestampNs: timestampNs))
    }

    /// The stream ended (FIN, reset or end of capture): a frame in progress is emitted truncated,
    /// and skipped bytes are reported.
    public mutating func finish(timestampNs: Int64) {
        lastTimestampNs = max(lastTimestampNs, timestampNs)
        if case .scanning = state { process(final: true) }
        switch state {
        case .framing:
            let present = buffer.readableBytes
            if present > 0 {
                var size = 0
                if present >= 4, let s = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) {
                    size = Int(s)
                    _ = emitTruncated(size: size, present: present)
                } else {
                    skippedBytes += Int64(present)
                }
                events.append(.incompleteFrame(streamOffset: bufferOffset, present: present, size: size, timestampNs: lastTimestampNs))
            }
        case .scanning:
            scanSkipped += buffer.readableBytes
            skippedBytes += Int64(buffer.readableBytes)
            endScan(found: false)
        case .skipping:
            break
        }
        bufferOffset += Int64(buffer.readableBytes)
        discardBuffered()
        state = .skipping(Int.max)
    }

    // MARK: - Framing

    private var minimumFrame: Int { role == .requests ? 8 : 4 }

    private mutating func process(final: Bool) {
        while true {
            switch state {
            case .framing:
                guard let size = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: Int32.self) else {
                    return
                }
                guard Int(size) >= minimumFrame, Int(size) <= configuration.maxFrameBytes else {
                    events.append(.implausibleSize(streamOffset: bufferOffset, size: size, timestampNs: lastTimestampNs))
                    beginScan(.implausibleSize, at: bufferOffset)
                    continue
                }
                guard buffer.readableBytes >= 4 + Int(size) else { return }
                buffer.moveReaderIndex(forwardBy: 4)
                guard let payload = buffer.readSlice(length: Int(size)) else { return }
                bufferOffset += Int64(4 + Int(size))
                emit(payload, wireLength: UInt32(size), truncated: false)
            case .scanning:
                guard scan(final: final) else { return }
                endScan(found: true)
                state = .framing
            case .skipping:
                return
            }
        }
    }

    private mutating func emit(_ payload: ByteBuffer, wireLength: UInt32, truncated: Bool) {
        frameCount += 1
        if role == .responses, let c = payload.getInteger(at: payload.readerIndex, endianness: .big, as: Int32.self), expected.remove(c) != nil {
            if let i = expectedOrder.firstIndex(of: c) { expectedOrder.remove(at: i) }
        }
        events.append(.frame(payload: payload, wireLength: wireLength, truncated: truncated, timestampNs: lastTimestampNs))
    }

    /// Emits the buffered start of a frame as truncated when it holds the header; returns whether it did.
    private mutating func emitTruncated(size: Int, present: Int) -> Bool {
        let payloadBytes = present - 4
        let header = role == .requests ? 8 : 4
        guard payloadBytes >= header, let payload = buffer.getSlice(at: buffer.readerIndex + 4, length: payloadBytes) else {
            skippedBytes += Int64(present)
            return false
        }
        emit(payload, wireLength: UInt32(truncatingIfNeeded: size), truncated: true)
        return true
    }

    private mutating func discardBuffered() {
        if buffer.capacity > 256 << 10 { buffer = ByteBuffer() } else { buffer.clear() }
    }

    /// Drops consumed bytes once they dominate the buffer (keeps appends amortised O(1)). Called
    /// before appending, when the previous call's frame slices have been released.
    private mutating func compact() {
        if buffer.readableBytes == 0 {
            // An idle connection should not keep the memory of the largest frame it ever carried.
            if buffer.capacity > 256 << 10 { buffer = ByteBuffer() } else { buffer.clear() }
        } else if buffer.readerIndex > 65536 && buffer.readerIndex > buffer.readableBytes {
            buffer.discardReadBytes()
        }
    }

    // MARK: - Resynchronisation

    private mutating func beginScan(_ reason: ResyncReason, at offset: Int64) {
        state = .scanning(reason)
        scanSkipped = 0
        scanStart = offset
    }

    private mutating func endScan(found: Bool) {
        guard case .scanning(let reason) = state else { return }
        if found || scanSkipped > 0 {
            events.append(.skipped(streamOffset: scanStart, bytes: scanSkipped, reason: reason, found: found, timestampNs: lastTimestampNs))
        }
        scanSkipped = 0
    }

    /// Advances the reader to a confirmed frame boundary; false when more bytes are needed.
    /// `final`: no more bytes will come before a gap or the end, so a candidate that ends exactly
    /// at the end of the data is accepted and one that needs more is rejected.
    private mutating func scan(final: Bool) -> Bool {
        while buffer.readableBytes > 0 {
            let p = buffer.readerIndex
            switch plausible(at: p, confirming: false) {
            case .no:
                break
            case .needMore:
                if !final { return false }
            case .yes(let size):
                let end = p + 4 + size
                if end == buffer.writerIndex { return true }
                if end < buffer.writerIndex {
                    switch plausible(at: end, confirming: true) {
                    case .yes: return true
                    case .no: break
                    case .needMore:
                        // The next frame's start is cut off by the end of the data: the candidate
                        // ends exactly where a frame could begin, which is what a boundary looks like.
                        if final { return true }
                        return false
                    }
                } else if !final {
                    return false
                }
            }
            buffer.moveReaderIndex(forwardBy: 1)
            bufferOffset += 1
            scanSkipped += 1
            skippedBytes += 1
        }
        return false
    }

    private func plausible(at index: Int, confirming: Bool) -> FrameStartPlausibility {
        switch role {
        case .requests:
            let limit = confirming ? configuration.maxFrameBytes : configuration.maxResyncFrameBytes
            return KafkaFrameHeuristics.request(in: buffer, at: index, maxSize: limit)
        case .responses:
            if confirming {
                return KafkaFrameHeuristics.response(in: buffer, at: index, maxSize: configuration.maxFrameBytes) { $0 >= 0 }
            }
            return KafkaFrameHeuristics.response(in: buffer, at: index, maxSize: configuration.maxResyncFrameBytes) {
                expected.contains($0)
            }
        }
    }
}
