import ArgumentParser
import KafkaCapture
import KafkaProtocol

extension KafkaTape {
    /// `kafkatape stats`: per-API counts, error codes, latency percentiles and bytes.
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Summarise a capture per API: count, error codes, latency p50/p99/max, bytes.",
            discussion: """
                ERRORS lists the non-zero error codes the broker answered with (anywhere in the response) and \
                responses that did not decode. UNANSWERED counts requests that never got a response because the \
                connection closed first (the client gave up or went away) or the capture ended; they are not errors \
                of the broker. Produce with acks=0 expects no response and counts as neither.
                """)

        @Argument(help: "Capture file.")
        var path: String

        @Flag(help: "Print one JSON object.")
        var json = false

        struct PerApi {
            var count = 0
            var unanswered = 0
            /// Of `unanswered`: the connection closed first (the client went away), not the capture's end.
            var connectionClosed = 0
            var latencies = LatencyHistogram()
            var requestBytes = 0
            var responseBytes = 0
            var errors: [Int16: Int] = [:]
            var undecodable = 0

            mutating func add(_ e: Exchange) {
                count += 1
                requestBytes += Int(e.request.wireLength) + 4
                if let r = e.response {
                    responseBytes += Int(r.wireLength) + 4
                    if let l = e.latencyNs { latencies.add(l) }
                    if let v = DecodedExchange(e).responseValue {
                        Stats.collectErrors(v, into: &errors)
                    } else {
                        undecodable += 1
                    }
                } else if e.missingResponse != .notExpected {
                    unanswered += 1
                    if e.missingResponse == .connectionClosed { connectionClosed += 1 }
                }
            }
        }

        func run() throws {
            let reader = try openCapture(path)
            var tracker = ExchangeTracker(ordering: .completionOrder)
            var perApi: [Int16: PerApi] = [:]
            var connections = 0
            var events: [String: Int] = [:]
            func take(_ list: [ExchangeEvent]) {
                for case .exchange(let e) in list {
                    // Mutated in place: a copy out of the dictionary and back would copy the entry's
                    // storage for every exchange.
                    perApi[e.apiKey, default: PerApi()].add(e)
                }
            }
            try forEachRecord(reader, path: path) { record in
                switch record {
                case .connectionOpened: connections += 1
                case .event(let e): events[e.kind.rawValue, default: 0] += 1
                default: break
                }
                take(tracker.process(record))
            }
            take(tracker.finish())
            let sorted = perApi.sorted { $0.key < $1.key }
            if json {
                var apis: [KafkaValue] = []
                for (key, s) in sorted {
                    let lat = s.latencies
                    apis.append(.object(KafkaObject([
                        ("apiKey", .int(Int64(key))),
                        ("apiName", .string(KafkaAPIs.descriptor(apiKey: key)?.name ?? "ApiKey\(key)")),
                        ("count", .int(Int64(s.count))),
                        ("unanswered", .int(Int64(s.unanswered))),
                        ("unansweredConnectionClosed", .int(Int64(s.connectionClosed))),
                        ("unansweredCaptureEnded", .int(Int64(s.unanswered - s.connectionClosed))),
                        ("undecodable", .int(Int64(s.undecodable))),
                        ("errors", .object(KafkaObject(s.errors.sorted { $0.key < $1.key }.map { (KafkaErrorCode.name($0.key), .int(Int64($0.value))) }))),
                        ("latencyP50Ns", lat.percentile(0.50).map { .int($0) } ?? .null),
                        ("latencyP99Ns", lat.percentile(0.99).map { .int($0) } ?? .null),
                        ("latencyMaxNs", lat.maximum.map { .int($0) } ?? .null),
                        ("requestBytes", .int(Int64(s.requestBytes))),
                        ("responseBytes", .int(Int64(s.responseBytes))),
                    ])))
                }
                let top = KafkaObject([
                    ("connections", .int(Int64(connections))),
                    ("exchanges", .int(Int64(perApi.values.reduce(0) { $0 + $1.count }))),
                    ("events", .object(KafkaObject(events.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) }))),
                    ("apis", .array(apis)),
                ])
                print(KafkaJSON.render(.object(top)))
                try failIfDamaged(reader, path: path)
                return
            }
            print("connections: \(connections), exchanges: \(perApi.values.reduce(0) { $0 + $1.count })")
            let headings: [String] = [
                "API".padding(28), "COUNT".padding(7), "P50".padding(10), "P99".padding(10), "MAX".padding(10),
                "REQ B".padding(11), "RESP B".padding(11), "UNANSWERED".padding(12), "ERRORS",
            ]
            print(headings.joined())
            for (key, s) in sorted {
                let lat = s.latencies
                let name = "\(KafkaAPIs.descriptor(apiKey: key)?.name ?? "ApiKey")(\(key))"
                let f = { (v: Int64?) in v.map(DecodedExchange.formatLatency) ?? "-" }
                var errors = s.errors.sorted { $0.key < $1.key }.map { "\(KafkaErrorCode.name($0.key))×\($0.value)" }
                if s.undecodable > 0 { errors.append("undecodable×\(s.undecodable)") }
                let columns: [String] = [
                    name.padding(28), String(s.count).padding(7), f(lat.percentile(0.5)).padding(10),
                    f(lat.percentile(0.99)).padding(10), f(lat.maximum).padding(10), String(s.requestBytes).padding(11),
                    String(s.responseBytes).padding(11), (s.unanswered == 0 ? "-" : String(s.unanswered)).padding(12),
                    errors.isEmpty ? "-" : errors.joined(separator: " "),
                ]
                print(columns.joined())
            }
            let gone = perApi.values.reduce(0) { $0 + $1.connectionClosed }
            let ended = perApi.values.reduce(0) { $0 + $1.unanswered } - gone
            if gone + ended > 0 {
                print("unanswered: \(gone) (connection closed before the response: client gone), \(ended) (capture ended before the response)")
            }
            if !events.isEmpty {
                print("events: " + events.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", "))
            }
            try failIfDamaged(reader, path: path)
        }

        /// Every non-zero ErrorCode anywhere in a response.
        static func collectErrors(_ v: KafkaValue, into errors: inout [Int16: Int]) {
            switch v {
            case .object(let o):
                for f in o.fields {
                    if f.name == "ErrorCode", case .int(let c) = f.value {
                        if c != 0 { errors[Int16(truncatingIfNeeded: c), default: 0] += 1 }
                    } else {
                        collectErrors(f.value, into: &errors)
                    }
                }
            case .array(let a):
                for e in a { collectErrors(e, into: &errors) }
            default: break
            }
        }
    }
}
