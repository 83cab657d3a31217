import KafkaProtocol
import NIOCore

/// A capture's exchanges without their frames: one streaming pass pairs requests with responses
/// (`ExchangeTracker`) and keeps, per connection and in request order, each exchange's API key,
/// version, correlation id and the positions of its request and response records. Tools that visit
/// exchanges in an order of their own (`diff` walks aligned pairs of connections) read the frames
/// back by position with a `CaptureRecordFetcher`, so memory is this index (32 bytes an exchange)
/// plus one read window, not the capture.
public struct CaptureExchangeIndex: Sendable {
    /// One exchange: what it was and where its records are.
    public struct Entry: Hashable, Sendable {
        /// The request's API key.
        public var apiKey: Int16
        /// The request's API version.
        public var apiVersion: Int16
        /// The request's correlation id, echoed by its response.
        public var correlationId: Int32
        /// Where the request record is.
        public var request: CapturePosition { Self.unpack(packedRequest) }
        /// Where the response record is; nil when there is none (see `missingResponse`).
        public var response: CapturePosition? { packedResponse == Self.none ? nil : Self.unpack(packedResponse) }
        /// Why there is no response, when there is none.
        public var missingResponse: Exchange.MissingResponse? {
            switch missingCode {
            case 1: return .notExpected
            case 2: return .connectionClosed
            case 3: return .captureEnded
            default: return nil
            }
        }
        /// The response overtook an older request's (see `Exchange.responseOutOfOrder`).
        public var responseOutOfOrder: Bool

        private var packedRequest: UInt64
        private var packedResponse: UInt64
        private var missingCode: UInt8

        init(apiKey: Int16, apiVersion: Int16, correlationId: Int32, request: CapturePosition) {
            self.apiKey = apiKey
            self.apiVersion = apiVersion
            self.correlationId = correlationId
            self.packedRequest = Self.pack(request)
            self.packedResponse = Self.none
            self.missingCode = 0
            self.responseOutOfOrder = false
        }

        mutating func complete(response: CapturePosition?, missing: Exchange.MissingResponse?, outOfOrder: Bool) {
            packedResponse = response.map(Self.pack) ?? Self.none
            switch missing {
            case .notExpected?: missingCode = 1
            case .connectionClosed?: missingCode = 2
            case .captureEnded?: missingCode = 3
            case nil: missingCode = 0
            }
            responseOutOfOrder = outOfOrder
        }

        /// (API key << 16 | version): what request alignment compares.
        public var apiKeyAndVersion: Int32 { Int32(apiKey) << 16 | Int32(apiVersion) }

        // Segment index in the top 24 bits, offset in the low 40 (1 TiB per segment).
        private static let none = UInt64.max
        private static func pack(_ p: CapturePosition) -> UInt64 { UInt64(p.segmentIndex) << 40 | UInt64(p.offset) }
        private static func unpack(_ v: UInt64) -> CapturePosition {
            CapturePosition(segmentIndex: UInt32(v >> 40), offset: Int64(v & ((1 << 40) - 1)))
        }
    }

    /// One connection of the capture.
    public struct Connection: Sendable {
        /// The connection id, as in the capture.
        public var id: UInt64
        /// The broker node it was for (`ConnectionOpenedRecord.bootstrapNodeId`: bootstrap).
        public var nodeId: Int32 = ConnectionOpenedRecord.bootstrapNodeId
        /// What produced it: `proxy`, `replay`, ...
        public var role: String = "proxy"
        /// When its first request was sent (nil when it sent none).
        public var firstRequestTime: CaptureTimestamp?
        /// Its exchanges, in request order.
        public var entries: [Entry] = []

        /// `bootstrap` or `node N`.
        public var nodeDescription: String { nodeId < 0 ? "bootstrap" : "node \(nodeId)" }
    }

    /// The capture's file header.
    public var header: CaptureHeader
    /// Connections ordered as `RecordedSession` orders them: by first request, then the silent ones by id.
    public var connections: [Connection]
    /// Problems found while reading that do not stop anyone from using the rest (torn tail, corrupt
    /// spans, responses that match no request, requests without a header), one line each.
    public var warnings: [String]
    /// Damaged spans in the middle of the capture that were skipped (a torn tail that is corruption counts).
    public var corruptSpanCount: Int
    /// The segments read, for a `CaptureRecordFetcher`.
    public var segmentPaths: [String]

    /// Indexes the capture at `path` in one pass. `onResponse` sees each response frame (whole) as it
    /// is paired, with the request's API key and version: for facts a later pass needs before it
    /// starts (topic names by id, say).
    public static func build(
        path: String, storage: any CaptureStorage = FileCaptureStorage(),
        onResponse: (_ apiKey: Int16, _ apiVersion: Int16, _ payload: ByteBuffer) -> Void = { _, _, _ in }
    ) throws(CaptureError) -> CaptureExchangeIndex {
        let reader = try CaptureReader(path: path, storage: storage)
        defer { reader.close() }
        var byId: [UInt64: Connection] = [:]
        var warnings: [String] = []
        // Requests waiting for their exchange: tracker sequence -> (connection, entry index).
        var pending: [Int: (UInt64, Int)] = [:]
        var nextSequence = 0
        var tracker = ExchangeTracker(ordering: .completionOrder)

        func take(_ events: [ExchangeEvent], response: CapturePosition?, payload: ByteBuffer?) {
            for event in events {
                switch event {
                case .exchange(let e):
                    guard let (connection, index) = pending.removeValue(forKey: e.sequence) else { continue }
                    let answered = e.response != nil ? response : nil
                    byId[connection]?.entries[index].complete(
                        response: answered, missing: e.missingResponse, outOfOrder: e.responseOutOfOrder)
                    if answered != nil, let payload { onResponse(e.apiKey, e.apiVersion, payload) }
                case .unmatchedResponse, .unparsableRequest:
                    if let warning = event.warning { warnings.append(warning) }
                }
            }
        }

        while let record = try reader.next() {
            let position = reader.lastRecordPosition ?? CapturePosition(segmentIndex: 0, offset: 0)
            switch record {
            case .connectionOpened(let o):
                byId[o.connectionId, default: Connection(id: o.connectionId)].nodeId = o.nodeId
                byId[o.connectionId, default: Connection(id: o.connectionId)].role = o.role
                take(tracker.process(record), response: nil, payload: nil)
            case .frame(let frame) where frame.direction == .request:
                // The tracker needs the request header (and a Produce request's acks); it keeps what it
                // is given until the response, so it gets only those bytes.
                let p = frame.payload
                var slim = frame
                if let apiKey = p.getInteger(at: p.readerIndex, endianness: .big, as: Int16.self),
                    let apiVersion = p.getInteger(at: p.readerIndex + 2, endianness: .big, as: Int16.self),
                    let correlationId = p.getInteger(at: p.readerIndex + 4, endianness: .big, as: Int32.self)
                {
                    let acksZero = apiKey == 0 && ExchangeTracker.produceAcks(p, version: apiVersion) == 0
                    if !acksZero { slim.payload = ByteBuffer(buffer: p.getSlice(at: p.readerIndex, length: 8) ?? p) }
                    // Mutated in place: a copy out of the dictionary would copy the entries on every append.
                    let id = frame.connectionId
                    let fresh = Connection(id: id, firstRequestTime: frame.time)
                    byId[id, default: fresh].entries.append(
                        Entry(apiKey: apiKey, apiVersion: apiVersion, correlationId: correlationId, request: position))
                    if byId[id]?.firstRequestTime == nil { byId[id]?.firstRequestTime = frame.time }
                    pending[nextSequence] = (id, (byId[id]?.entries.count ?? 1) - 1)
                    nextSequence += 1
                } else {
                    slim.payload = ByteBuffer(buffer: p)
                }
                take(tracker.process(.frame(slim)), response: nil, payload: nil)
            case .frame(let frame):
                var slim = frame
                let p = frame.payload
                slim.payload = ByteBuffer(buffer: p.getSlice(at: p.readerIndex, length: min(4, p.readableBytes)) ?? p)
                take(tracker.process(.frame(slim)), response: position, payload: p)
            case .connectionClosed(let closed):
                if byId[closed.connectionId] == nil { byId[closed.connectionId] = Connection(id: closed.connectionId) }
                take(tracker.process(record), response: nil, payload: nil)
            case .addressMapping, .event:
                continue
            }
        }
        take(tracker.finish(), response: nil, payload: nil)

        if let torn = reader.tornTail {
            warnings.insert("\(path): \(torn) — every record before it was read", at: 0)
        }
        if let ignored = reader.ignoredSegment { warnings.append("\(ignored)") }
        for span in reader.corruptSpans { warnings.append("\(span)") }
        let connections = byId.values.sorted { a, b in
            switch (a.firstRequestTime, b.firstRequestTime) {
            case (let ta?, let tb?): return ta == tb ? a.id < b.id : ta < tb
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.id < b.id
            }
        }
        return CaptureExchangeIndex(
            header: reader.header, connections: connections, warnings: warnings,
            corruptSpanCount: reader.corruptSpanCount + (reader.tornTail?.kind == .corruption ? 1 : 0),
            segmentPaths: reader.segmentPaths)
    }

    /// Total exchanges over all connections.
    public var exchangeCount: Int { connections.reduce(0) { $0 + $1.entries.count } }

    /// A fetcher for this capture's records.
    public func fetcher(storage: any CaptureStorage = FileCaptureStorage()) -> CaptureRecordFetcher {
        CaptureRecordFetcher(segmentPaths: segmentPaths, firstSegmentIndex: header.segmentIndex, storage: storage)
    }

    /// Exchange `index` of `connection`, its frames read back from the capture.
    public func exchange(connection: Int, index: Int, fetcher: CaptureRecordFetcher) throws(CaptureError) -> Exchange {
        let c = connections[connection]
        let entry = c.entries[index]
        guard case .frame(let request) = try fetcher.record(at: entry.request) else {
            throw CaptureError(.changed("no request frame at \(entry.request)"))
        }
        var response: FrameRecord?
        if let at = entry.response {
            guard case .frame(let r) = try fetcher.record(at: at) else {
                throw CaptureError(.changed("no response frame at \(at)"))
            }
            response = r
        }
        return Exchange(
            connectionId: c.id, correlationId: entry.correlationId, apiKey: entry.apiKey, apiVersion: entry.apiVersion,
            request: request, response: response, missingResponse: entry.missingResponse,
            responseOutOfOrder: entry.responseOutOfOrder, sequence: index)
    }
}
