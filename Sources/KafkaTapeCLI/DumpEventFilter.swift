import KafkaCapture
import KafkaProtocol

/// Which non-frame records `dump` shows under `--api` and `--connection`, and their JSON form.
///
/// With `--connection`, only records of those connections (records of no connection are not about
/// them). With `--api`, only events about an exchange of those APIs: an event says which by an
/// `apiKey` attribute, or by a `correlationId` attribute that names a request this filter saw on the
/// same connection. Connection lifecycle and address mappings belong to no API and are left out.
struct DumpEventFilter {
    let connections: Set<UInt64>
    let apiKeys: Set<Int16>
    /// Per connection, the API of recent requests by correlation id; a bounded window, because events
    /// refer to exchanges in flight, not to old ones.
    private var recentApis: [UInt64: [(correlationId: Int32, apiKey: Int16)]] = [:]
    static let window = 256

    init(connections: Set<UInt64>, apiKeys: Set<Int16>) {
        self.connections = connections
        self.apiKeys = apiKeys
    }

    /// Notes the API of each request, and forgets connections that closed.
    mutating func observe(_ record: CaptureRecord) {
        guard !apiKeys.isEmpty else { return }
        switch record {
        case .frame(let f) where f.direction == .request:
            guard let key = f.payload.getInteger(at: f.payload.readerIndex, endianness: .big, as: Int16.self),
                let correlation = f.payload.getInteger(at: f.payload.readerIndex + 4, endianness: .big, as: Int32.self)
            else { return }
            var list = recentApis[f.connectionId, default: []]
            if list.count >= Self.window { list.removeFirst(list.count - Self.window + 1) }
            list.append((correlation, key))
            recentApis[f.connectionId] = list
        case .connectionClosed(let c):
            recentApis[c.connectionId] = nil
        default:
            break
        }
    }

    /// Whether a non-frame record is shown.
    func shows(_ record: CaptureRecord) -> Bool {
        if !connections.isEmpty {
            guard let id = record.connectionId, connections.contains(id) else { return false }
        }
        guard !apiKeys.isEmpty else { return true }
        guard case .event(let e) = record else { return false }
        if let key = e.attributes.first(where: { $0.key == "apiKey" }).flatMap({ Int16($0.value) }) {
            return apiKeys.contains(key)
        }
        if let id = e.connectionId, let correlation = e.attributes.first(where: { $0.key == "correlationId" }).flatMap({ Int32($0.value) }),
            let key = recentApis[id]?.last(where: { $0.correlationId == correlation })?.apiKey
        {
            return apiKeys.contains(key)
        }
        return false
    }

    /// One JSON object for a non-frame record, with `kind` saying which: `connectionOpened`,
    /// `connectionClosed`, `addressMapping` or `event` (whose own kind is `eventKind`).
    static func json(_ record: CaptureRecord) -> String? {
        var o = KafkaObject()
        switch record {
        case .connectionOpened(let r):
            o.append("kind", .string("connectionOpened"))
            o.append("connection", .int(Int64(bitPattern: r.connectionId)))
            append(r.time, to: &o)
            o.append("clientAddress", .string(r.clientAddress))
            o.append("listenerAddress", .string(r.listenerAddress))
            o.append("upstreamAddress", .string(r.upstreamAddress))
            o.append("nodeId", .int(Int64(r.nodeId)))
            o.append("role", .string(r.role))
        case .connectionClosed(let r):
            o.append("kind", .string("connectionClosed"))
            o.append("connection", .int(Int64(bitPattern: r.connectionId)))
            append(r.time, to: &o)
            o.append("closedBy", .string(r.closedBy.description))
            o.append("reason", .string(r.reason))
        case .addressMapping(let r):
            o.append("kind", .string("addressMapping"))
            append(r.time, to: &o)
            o.append("nodeId", .int(Int64(r.nodeId)))
            o.append("upstreamHost", .string(r.upstreamHost))
            o.append("upstreamPort", .int(Int64(r.upstreamPort)))
            o.append("proxyHost", .string(r.proxyHost))
            o.append("proxyPort", .int(Int64(r.proxyPort)))
        case .event(let r):
            o.append("kind", .string("event"))
            o.append("connection", r.connectionId.map { .int(Int64(bitPattern: $0)) } ?? .null)
            append(r.time, to: &o)
            o.append("eventKind", .string(r.kind.rawValue))
            o.append("message", .string(r.message))
            // Keys may repeat and their order matters: pairs, not an object.
            o.append("attributes", .array(r.attributes.map { .array([.string($0.key), .string($0.value)]) }))
            if let p = r.payload { o.append("payloadHex", .string(Hex.encode(p))) }
        case .frame:
            return nil
        }
        return KafkaJSON.render(.object(o))
    }

    private static func append(_ t: CaptureTimestamp, to o: inout KafkaObject) {
        o.append("timeNs", .int(t.wallNs))
    }
}
