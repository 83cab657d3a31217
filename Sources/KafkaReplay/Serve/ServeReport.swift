import KafkaProtocol

/// A request `serve` had no recorded answer for.
public struct ServeMiss: Sendable, CustomStringConvertible {
    /// The live connection the request came on (the server's own numbering).
    public var connection: UInt64
    /// The request's API name.
    public var apiName: String
    /// The request's version.
    public var apiVersion: Int16
    /// The request's correlation id, as the client sent it.
    public var correlationId: Int32
    /// The nearest recorded request of the same API and version: recorded connection id and
    /// 1-based position, with the fields that differ (A = recorded, B = received).
    public var nearest: (connection: UInt64, position: Int, correlationId: Int32)?
    /// How the nearest recorded request differs from the one received.
    public var differences: [FieldDifference]
    /// What the server did about it (`--on-miss`).
    public var action: ServeMissPolicy

    /// One line: the request, the nearest recorded one and up to eight differing fields.
    public var description: String {
        var s = "miss: connection \(connection) \(apiName) v\(apiVersion) correlation id \(correlationId) (\(action.rawValue))"
        if let n = nearest {
            s += "; nearest recorded: connection \(n.connection) #\(n.position) (corr \(n.correlationId))"
            let shown = differences.prefix(8).map {
                "\($0.path): recorded \(DiffReport.valueText($0.a, limit: 60)), received \(DiffReport.valueText($0.b, limit: 60))"
            }
            if !shown.isEmpty { s += ": " + shown.joined(separator: "; ") }
            if differences.count > 8 { s += "; …" }
        } else {
            s += "; no recorded \(apiName) v\(apiVersion) request at all"
        }
        return s
    }
}

/// What `serve` did so far.
public struct ServeReport: Sendable {
    /// Client connections accepted.
    public var connections = 0
    /// Requests received.
    public var requests = 0
    /// Requests answered from the capture.
    public var answered = 0
    /// Answers given from a recorded request earlier than the connection's cursor (a repeat).
    public var repeats = 0
    /// Requests nothing recorded matched, in order.
    public var misses: [ServeMiss] = []
    /// Times the recorded session was started over (`--loop`).
    public var rounds = 0

    /// The report for people: connections, requests, answers, repeats and misses, one line each.
    public var summaryLines: [String] {
        var lines = [
            "connections: \(connections)",
            "requests: \(requests), answered from the capture: \(answered) (\(repeats) repeated), misses: \(misses.count)",
        ]
        if rounds > 0 { lines.append("rounds played through: \(rounds)") }
        lines += misses.map(\.description)
        return lines
    }
}
