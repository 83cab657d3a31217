import KafkaCapture
import KafkaProtocol
import NIOCore

/// A capture read into memory and paired into exchanges per connection: what replay, serve and diff
/// work from.
///
/// Connections are ordered by their first request (connections that sent nothing come last, by id).
/// Frame payloads are copied out of the reader's chunks, so the session holds only its own bytes.
public struct RecordedSession: Sendable {
    /// The capture's header, when it was read from a file.
    public var header: CaptureHeader?
    /// The client connections, ordered by their first request.
    public var connections: [RecordedConnection]
    /// The proxy's node address mappings (which proxy port stood for which broker).
    public var addressMappings: [AddressMappingRecord]
    /// The capture's events (rewrites, faults, redactions, upstream failures).
    public var events: [EventRecord]
    /// Problems found while reading that do not stop anyone from using the rest: a torn tail,
    /// responses that match no request, request frames without a header.
    public var warnings: [String]
    /// Damaged spans in the middle of the capture that were skipped (a torn tail does not count).
    public var corruptSpanCount = 0

    /// Pairs `records` into exchanges per connection; anything odd becomes a warning, not an error.
    public init(records: some Sequence<CaptureRecord>, header: CaptureHeader? = nil) {
        self.header = header
        var byId: [UInt64: RecordedConnection] = [:]
        var mappings: [AddressMappingRecord] = []
        var events: [EventRecord] = []
        var warnings: [String] = []
        var tracker = ExchangeTracker(ordering: .requestOrder)
        func take(_ produced: [ExchangeEvent]) {
            for event in produced {
                switch event {
                case .exchange(let e):
                    byId[e.connectionId, default: RecordedConnection(id: e.connectionId)].exchanges.append(Self.owned(e))
                case .unmatchedResponse, .unparsableRequest:
                    if let warning = event.warning { warnings.append(warning) }
                }
            }
        }
        for record in records {
            switch record {
            case .connectionOpened(let o):
                var c = byId[o.connectionId, default: RecordedConnection(id: o.connectionId)]
                c.nodeId = o.nodeId
                c.role = o.role
                c.opened = o
                byId[o.connectionId] = c
            case .connectionClosed(let closed):
                byId[closed.connectionId, default: RecordedConnection(id: closed.connectionId)].closed = closed
            case .addressMapping(let m):
                mappings.append(m)
            case .event(let e):
                events.append(e)
            case .frame:
                break
            }
            take(tracker.process(record))
        }
        take(tracker.finish())
        connections = byId.values.sorted { a, b in
            switch (a.firstRequestTime, b.firstRequestTime) {
            case (let ta?, let tb?): return ta == tb ? a.id < b.id : ta < tb
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a.id < b.id
            }
        }
        addressMappings = mappings
        self.events = events
        self.warnings = warnings
    }

    /// Reads a whole capture (all segments). A torn tail is a warning, not an error: every record
    /// before it is used.
    public static func read(path: String) throws(CaptureError) -> RecordedSession {
        let reader = try CaptureReader(path: path)
        let records = try reader.readAll()
        var session = RecordedSession(records: records, header: reader.header)
        if let torn = reader.tornTail {
            session.warnings.insert("\(path): \(torn) — every record before it was read", at: 0)
        }
        if let ignored = reader.ignoredSegment {
            session.warnings.append("\(ignored)")
        }
        for span in reader.corruptSpans { session.warnings.append("\(span)") }
        session.corruptSpanCount = reader.corruptSpanCount + (reader.tornTail?.kind == .corruption ? 1 : 0)
        return session
    }

    /// Every exchange, over all connections, in the order the requests were sent.
    public var allExchanges: [Exchange] {
        connections.flatMap(\.exchanges).sorted { $0.sequence < $1.sequence }
    }

    /// Exchanges across all connections.
    public var exchangeCount: Int { connections.reduce(0) { $0 + $1.exchanges.count } }

    /// Broker node ids the capture knows about: connections made to a node, address mappings, and
    /// every endpoint in a recorded response (Metadata brokers, coordinators, leader hints).
    public var nodeIds: [Int32] {
        var ids: Set<Int32> = []
        for c in connections where c.nodeId >= 0 { ids.insert(c.nodeId) }
        for m in addressMappings where m.nodeId >= 0 { ids.insert(m.nodeId) }
        for c in connections {
            for e in c.exchanges where e.response != nil && AddressRewriterBridge.mayCarryEndpoints(e) {
                for endpoint in AddressRewriterBridge.endpoints(e) { ids.insert(endpoint.nodeId) }
            }
        }
        return ids.sorted()
    }

    /// Topic names by id, from every response of the capture that carries both.
    public var topicNames: [KafkaUUID: String] {
        var names: [KafkaUUID: String] = [:]
        for c in connections {
            for e in c.exchanges {
                guard let frame = e.response,
                    let decoded = try? KafkaFrameCodec.decodeResponse(frame.payload, apiKey: e.apiKey, apiVersion: e.apiVersion)
                else { continue }
                MessageNormalizer.collectTopicNames(decoded.body.kafkaValue(version: decoded.apiVersion), into: &names)
            }
        }
        return names
    }

    /// Only the connections with these ids (all when `ids` is empty).
    public func filtered(connections ids: Set<UInt64>) -> RecordedSession {
        guard !ids.isEmpty else { return self }
        var copy = self
        copy.connections = connections.filter { ids.contains($0.id) }
        return copy
    }

    /// An exchange whose frames are copies (not slices of a reader chunk).
    static func owned(_ e: Exchange) -> Exchange {
        var copy = e
        copy.request.payload = ByteBuffer(buffer: e.request.payload)
        if let r = e.response {
            var response = r
            response.payload = ByteBuffer(buffer: r.payload)
            copy.response = response
        }
        return copy
    }
}
