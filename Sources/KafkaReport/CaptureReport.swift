import KafkaCapture
import KafkaCheck
import KafkaProtocol

/// The HTML report of one capture: a timeline per connection, per-API latency and errors, and, when
/// a check report is given, its findings linked to their exchanges. Built from the same decoded
/// model as `dump --json` (each exchange's JSON is `DecodedExchange.jsonLine()`), `stats --json`
/// (`CaptureStatistics`) and `check --json` (`CheckReport.json`): the page decodes nothing itself.
///
/// Feed records in capture order with `process`, then `finish` and `html`.
public struct CaptureReport {
    /// Exchange flags in the page's columnar data.
    enum Flag {
        static let error = 1
        static let unanswered = 2
        static let undecodable = 4
        static let outOfOrder = 8
    }

    struct Connection {
        var id: UInt64
        var client = ""
        var listener = ""
        var upstream = ""
        var node: Int32 = -1
        var openNs: Int64?
        var closeNs: Int64?
        var closedBy = ""
        var reason = ""
    }

    struct Event {
        var timeNs: Int64
        var connection: UInt64?
        var kind: String
        var message: String
        var correlationId: Int32?
    }

    /// The capture the page describes.
    public let capturePath: String
    private var tracker = ExchangeTracker()
    private var statistics = CaptureStatistics()
    private var connections: [Connection] = []
    private var connectionIndex: [UInt64: Int] = [:]
    private var events: [Event] = []
    private var apiNames: [String] = []
    private var apiIndex: [Int16: Int] = [:]
    // Columnar exchange data: the page draws 100,000 bars from a few flat arrays.
    private var exConnection: [Int] = []
    private var exStartNs: [Int64] = []
    private var exEndNs: [Int64?] = []
    private var exApi: [Int] = []
    private var exFlags: [Int] = []
    private var exCorrelation: [Int32] = []
    private var lines: [String] = []
    private var byCorrelation: [ExchangeKey: Int] = [:]
    private var firstNs: Int64?
    private var lastNs: Int64?
    private var unpaired = 0

    struct ExchangeKey: Hashable {
        var connection: UInt64
        var correlationId: Int32
    }

    /// A report of the capture at `capturePath` (read when the page is built).
    public init(capturePath: String) {
        self.capturePath = capturePath
    }

    /// The number of exchanges so far.
    public var exchangeCount: Int { lines.count }

    /// Takes one record, in capture order.
    public mutating func process(_ record: CaptureRecord) {
        statistics.observe(record)
        note(time: record.time.wallNs)
        switch record {
        case .connectionOpened(let o):
            var c = Connection(id: o.connectionId)
            c.client = o.clientAddress
            c.listener = o.listenerAddress
            c.upstream = o.upstreamAddress
            c.node = o.nodeId
            c.openNs = o.time.wallNs
            update(o.connectionId) { $0 = c }
        case .connectionClosed(let closed):
            update(closed.connectionId) {
                $0.closeNs = closed.time.wallNs
                $0.closedBy = closed.closedBy.description
                $0.reason = closed.reason
            }
        case .event(let e):
            let corr = e.attributes.first { $0.key == "correlationId" }.flatMap { Int32($0.value) }
            events.append(Event(timeNs: e.time.wallNs, connection: e.connectionId, kind: e.kind.rawValue, message: e.message, correlationId: corr))
        default:
            break
        }
        take(tracker.process(record))
    }

    /// The capture ended; `tornTail` (a capture cut short) becomes a marker at its end.
    public mutating func finish(tornTail: String? = nil) {
        take(tracker.finish())
        if let tornTail {
            events.append(Event(timeNs: lastNs ?? 0, connection: nil, kind: "torn-tail", message: tornTail, correlationId: nil))
        }
    }

    private mutating func note(time: Int64) {
        firstNs = min(firstNs ?? time, time)
        lastNs = max(lastNs ?? time, time)
    }

    private mutating func update(_ id: UInt64, _ change: (inout Connection) -> Void) {
        let i = connectionSlot(id)
        change(&connections[i])
        connections[i].id = id
    }

    private mutating func connectionSlot(_ id: UInt64) -> Int {
        if let i = connectionIndex[id] { return i }
        connectionIndex[id] = connections.count
        connections.append(Connection(id: id))
        return connections.count - 1
    }

    private mutating func apiSlot(_ key: Int16, _ name: String) -> Int {
        if let i = apiIndex[key] { return i }
        apiIndex[key] = apiNames.count
        apiNames.append(name)
        return apiNames.count - 1
    }

    private mutating func take(_ list: [ExchangeEvent]) {
        for event in list {
            guard case .exchange(let e) = event else {
                unpaired += 1
                continue
            }
            let decoded = DecodedExchange(e)
            let errors = statistics.add(decoded)
            var flags = errors.isEmpty ? 0 : Flag.error
            if e.response == nil && e.missingResponse != .notExpected { flags |= Flag.unanswered }
            if decoded.errorDescription != nil { flags |= Flag.undecodable | Flag.error }
            if e.responseOutOfOrder { flags |= Flag.outOfOrder }
            let index = lines.count
            byCorrelation[ExchangeKey(connection: e.connectionId, correlationId: e.correlationId)] = index
            exConnection.append(connectionSlot(e.connectionId))
            exStartNs.append(e.requestTimeNs)
            exEndNs.append(e.response?.time.wallNs)
            note(time: e.requestTimeNs)
            exApi.append(apiSlot(e.apiKey, decoded.apiName))
            exFlags.append(flags)
            exCorrelation.append(e.correlationId)
            lines.append(decoded.jsonLine())
        }
    }

    /// The page. `check` is the report of `kafkatape check` on the same capture (nil: not checked).
    public func html(check: CheckReport? = nil, title: String? = nil) -> String {
        let t0 = firstNs ?? 0
        // Milliseconds from the first record, to the microsecond: doubles keep that exact for days,
        // where ns since the epoch would not fit the page's numbers.
        func ms(_ ns: Int64) -> String {
            let us = (ns - t0) / 1000
            let whole = us / 1000
            let frac = abs(us % 1000)
            if frac == 0 { return String(whole) }
            var f = String(frac)
            while f.count < 3 { f = "0" + f }
            while f.hasSuffix("0") { f.removeLast() }
            return (us < 0 && whole == 0 ? "-" : "") + "\(whole).\(f)"
        }
        var json = "{\"kind\":\"capture\""
        json += ",\"capture\":" + HTMLDocument.jsonString(capturePath)
        json += ",\"t0Ms\":\(Double(t0) / 1e6)"
        json += ",\"endMs\":" + ms(lastNs ?? t0)
        json += ",\"unpaired\":\(unpaired)"
        json += ",\"apis\":[" + apiNames.map(HTMLDocument.jsonString).joined(separator: ",") + "]"
        json += ",\"connections\":["
        json += connections.map { c in
            var o = "{\"id\":\(c.id),\"node\":\(c.node),\"role\":" + HTMLDocument.jsonString(c.node < 0 ? "bootstrap" : "node \(c.node)")
            o += ",\"client\":" + HTMLDocument.jsonString(c.client) + ",\"upstream\":" + HTMLDocument.jsonString(c.upstream)
            o += ",\"openMs\":" + (c.openNs.map(ms) ?? "null") + ",\"closeMs\":" + (c.closeNs.map(ms) ?? "null")
            o += ",\"closedBy\":" + HTMLDocument.jsonString(c.closedBy) + ",\"reason\":" + HTMLDocument.jsonString(c.reason) + "}"
            return o
        }.joined(separator: ",")
        json += "]"
        json += ",\"ex\":{\"conn\":[" + exConnection.map(String.init).joined(separator: ",") + "]"
        json += ",\"start\":[" + exStartNs.map(ms).joined(separator: ",") + "]"
        json += ",\"end\":[" + exEndNs.map { $0.map(ms) ?? "null" }.joined(separator: ",") + "]"
        json += ",\"api\":[" + exApi.map(String.init).joined(separator: ",") + "]"
        json += ",\"flags\":[" + exFlags.map(String.init).joined(separator: ",") + "]"
        json += ",\"corr\":[" + exCorrelation.map(String.init).joined(separator: ",") + "]}"
        json += ",\"events\":["
        json += events.map { e in
            var o = "{\"t\":" + ms(e.timeNs) + ",\"conn\":" + (e.connection.flatMap { connectionIndex[$0] }.map(String.init) ?? "-1")
            o += ",\"kind\":" + HTMLDocument.jsonString(e.kind) + ",\"message\":" + HTMLDocument.jsonString(e.message)
            let linked = e.connection.flatMap { c in e.correlationId.flatMap { byCorrelation[ExchangeKey(connection: c, correlationId: $0)] } }
            o += ",\"ex\":" + (linked.map(String.init) ?? "-1") + "}"
            return o
        }.joined(separator: ",")
        json += "]"
        json += ",\"stats\":" + KafkaJSON.render(statistics.jsonValue)
        if let check {
            json += ",\"check\":" + check.json(capturePath: capturePath)
            // Each finding's exchanges as indices into the exchange arrays (-1: not in the capture's pairs).
            json += ",\"findingExchanges\":["
            json += check.findings.map { f in
                "[" + f.exchanges.map { r in
                    String(byCorrelation[ExchangeKey(connection: r.connection, correlationId: r.correlationId)] ?? -1)
                }.joined(separator: ",") + "]"
            }.joined(separator: ",")
            json += "]"
        } else {
            json += ",\"check\":null"
        }
        json += "}"
        var doc = HTMLDocument(title: title ?? "kafkatape report: \(capturePath)")
        doc.addJSON(id: "data", json)
        doc.addLines(id: "lines", lines)
        return doc.render()
    }
}
