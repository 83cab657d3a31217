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

        func run() throws {
            let reader = try openCapture(path)
            var tracker = ExchangeTracker(ordering: .completionOrder)
            var statistics = CaptureStatistics()
            func take(_ list: [ExchangeEvent]) {
                for case .exchange(let e) in list { statistics.add(e) }
            }
            try forEachRecord(reader, path: path) { record in
                statistics.observe(record)
                take(tracker.process(record))
            }
            take(tracker.finish())
            if json {
                print(KafkaJSON.render(statistics.jsonValue))
                try failIfDamaged(reader, path: path)
                return
            }
            let perApi = statistics.apis
            let sorted = perApi.sorted { $0.key < $1.key }
            let connections = statistics.connections
            let events = statistics.events
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
    }
}
