import ArgumentParser
import KafkaCapture
import KafkaProtocol

extension KafkaTape {
    /// `kafkatape dump`: one line per exchange.
    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a capture: one line per exchange (request paired with its response).",
            discussion: """
                Text lines: connection, correlation id, API and version, latency, then '>' request and '<' response \
                summaries (topics[partitions], offsets, record counts, error codes). Lines starting with '--' are \
                connection and proxy events (rewrites, malformed frames, unreachable upstreams).
                --json prints one JSON object per exchange and line, with keys connection, correlationId, apiKey, \
                apiName, apiVersion, requestTimeNs, latencyNs, clientId, request, response (decoded bodies, Kafka's \
                field names; bytes as {"utf8":...} or {"base64":...}; records decoded), and error/requestHex/\
                responseHex for frames that do not decode.
                --events (with --json) interleaves connection and proxy events as JSON objects; every line then has a \
                'kind'. --connection and --api apply to events too: --api shows the events about exchanges of \
                those APIs (rewrites, faults), not connection lifecycle.
                A torn tail (a capture cut short by a crash) is reported on stderr; everything before it is printed. \
                Corruption in the middle (a damaged record with intact ones after it) is skipped and each span \
                reported on stderr; the rest is printed and the exit status is 2.
                """)

        @Argument(help: "Capture file (the first segment of a rotated capture).")
        var path: String

        @Flag(help: "One JSON object per exchange and line.")
        var json = false

        @Flag(help: "With --json: also connection lifecycle, address mappings and proxy events, one JSON object each, in capture order; every line then has a 'kind' (exchange, connectionOpened, connectionClosed, addressMapping, event, unmatchedResponse, unparsableRequest).")
        var events = false

        @Option(name: .customLong("connection"), help: "Only these connection ids (repeatable).")
        var connections: [UInt64] = []

        @Option(name: .customLong("api"), help: "Only these APIs, by name or key (repeatable).")
        var apis: [String] = []

        func validate() throws {
            if events && !json { throw ValidationError("--events needs --json (text output always shows events)") }
        }

        func run() throws {
            let reader = try openCapture(path)
            let keys = try apiKeys(apis)
            var tracker = ExchangeTracker()
            var filter = DumpEventFilter(connections: Set(connections), apiKeys: keys)
            let wanted = { (connection: UInt64) in connections.isEmpty || connections.contains(connection) }
            // Unpaired frames have no API: they are shown unless --api asks for particular ones.
            let unpairedShown = { (connection: UInt64) in keys.isEmpty && wanted(connection) }
            func emit(_ list: [ExchangeEvent]) {
                for event in list {
                    switch event {
                    case .exchange(let e):
                        if !wanted(e.connectionId) { continue }
                        if !keys.isEmpty && !keys.contains(e.apiKey) { continue }
                        let d = DecodedExchange(e)
                        if json {
                            let line = d.jsonLine()
                            print(events ? #"{"kind":"exchange","# + line.dropFirst() : line)
                        } else {
                            print(d.summaryLine())
                        }
                    case .unmatchedResponse(let u):
                        guard unpairedShown(u.connectionId) else { continue }
                        if !json {
                            print("-- conn \(u.connectionId): response \(u.correlationId.map(String.init) ?? "?") matches no request")
                        } else if events {
                            print(#"{"kind":"unmatchedResponse","connection":\#(u.connectionId),"correlationId":\#(u.correlationId.map(String.init) ?? "null"),"responseHex":"\#(Hex.encode(u.response.payload))"}"#)
                        }
                    case .unparsableRequest(let f):
                        guard unpairedShown(f.connectionId) else { continue }
                        if !json {
                            print("-- conn \(f.connectionId): request frame of \(f.payload.readableBytes) bytes has no header")
                        } else if events {
                            print(#"{"kind":"unparsableRequest","connection":\#(f.connectionId),"requestHex":"\#(Hex.encode(f.payload))"}"#)
                        }
                    }
                }
            }
            try forEachRecord(reader, path: path) { record in
                filter.observe(record)
                if !json || events, filter.shows(record) {
                    if json {
                        if let line = DumpEventFilter.json(record) { print(line) }
                    } else if let line = Self.describe(record) {
                        print(line)
                    }
                }
                emit(tracker.process(record))
            }
            emit(tracker.finish())
            try failIfDamaged(reader, path: path)
        }

        static func describe(_ record: CaptureRecord) -> String? {
            switch record {
            case .connectionOpened(let o):
                let node = o.nodeId < 0 ? "bootstrap" : "node \(o.nodeId)"
                return "-- conn \(o.connectionId) opened: \(o.clientAddress) -> \(o.listenerAddress) (\(node)) -> \(o.upstreamAddress)"
            case .connectionClosed(let c):
                return "-- conn \(c.connectionId) closed by \(c.closedBy): \(c.reason)"
            case .addressMapping(let m):
                return "-- node \(m.nodeId): \(m.upstreamHost):\(m.upstreamPort) is served at \(m.proxyHost):\(m.proxyPort)"
            case .event(let e):
                let conn = e.connectionId.map { "conn \($0) " } ?? ""
                let attrs = e.attributes.isEmpty ? "" : " [" + e.attributes.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "]"
                return "-- \(conn)\(e.kind): \(e.message)\(attrs)"
            case .frame:
                return nil
            }
        }
    }
}

/// Parses API names or keys (`Fetch`, `fetch`, `1`).
func apiKeys(_ names: [String]) throws -> Set<Int16> {
    var keys: Set<Int16> = []
    for n in names {
        if let k = Int16(n) {
            keys.insert(k)
        } else if let api = KafkaAPIs.all.first(where: { $0.name.lowercased() == n.lowercased() }) {
            keys.insert(api.apiKey)
        } else {
            throw UsageError("unknown API '\(n)' (see `kafkatape apis`)")
        }
    }
    return keys
}
