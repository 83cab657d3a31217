import Foundation
import KafkaCapture

/// Why a replay stopped before the end.
public enum ReplayFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The target (or the node a connection was routed to) refused or timed out.
    case targetUnreachable(address: String, connection: UInt64, reason: String)
    /// The target answered "unknown topic" where the recording had an answer for the topic.
    case missingTopic(topic: String, api: String, connection: UInt64, error: String)
    /// The target did not answer a request within the timeout.
    case noResponse(connection: UInt64, correlationId: Int32, api: String, waitedMs: Int64)
    /// The target closed a connection with requests still unanswered.
    case connectionLost(connection: UInt64, outstanding: Int)
    /// A connection was recorded to a node the target's Metadata does not name (see `--target-node`).
    case unknownNode(nodeId: Int32, known: [Int32])
    /// A learned value could not be put into a recorded request.
    case substitutionFailed(connection: UInt64, correlationId: Int32, api: String, detail: String)

    /// One line saying what stopped the replay and where.
    public var description: String {
        switch self {
        case .targetUnreachable(let address, let connection, let reason):
            return "target \(address) unreachable (recorded connection \(connection)): \(reason)"
        case .missingTopic(let topic, let api, let connection, let error):
            return "the target has no topic '\(topic)': \(api) on recorded connection \(connection) answered \(error) where the recording had the topic"
        case .noResponse(let connection, let correlationId, let api, let waitedMs):
            return "no response to \(api) (connection \(connection), correlation id \(correlationId)) within \(waitedMs) ms"
        case .connectionLost(let connection, let outstanding):
            return "the target closed connection \(connection) with \(outstanding) request(s) unanswered"
        case .unknownNode(let nodeId, let known):
            return "the target has no node \(nodeId) (its Metadata names nodes \(known.map(String.init).joined(separator: ", ")))"
        case .substitutionFailed(let connection, let correlationId, let api, let detail):
            return "cannot prepare \(api) (connection \(connection), correlation id \(correlationId)): \(detail)"
        }
    }
}

/// What a replay did.
public struct ReplayReport: Sendable {
    /// Requests in the recording.
    public var totalRequests: Int
    /// Requests sent to the target.
    public var requestsSent: Int
    /// Responses received from the target.
    public var responsesReceived: Int
    /// Connections opened to the target.
    public var connectionsOpened: Int
    /// Substituted values per binding kind.
    public var substitutions: [String: Int]
    /// Learned bindings that changed a value (recorded != replayed), per kind.
    public var learned: [String: Int]
    /// Wall time of the replay, in nanoseconds.
    public var elapsedNs: UInt64
    /// What stopped the replay early; nil when it ran to the end.
    public var failure: ReplayFailure?
    /// Problems that did not stop it (a frame that did not decode, a node routed by guess).
    public var warnings: [String]

    /// True when every recorded request was sent and nothing failed.
    public var completed: Bool { failure == nil && requestsSent == totalRequests }

    /// Requests sent per second of wall time.
    public var requestsPerSecond: Double {
        elapsedNs == 0 ? 0 : Double(requestsSent) / (Double(elapsedNs) / 1e9)
    }

    /// The report for people: counts, elapsed time and rate, substitutions, values that differed.
    public var summaryLines: [String] {
        var lines = [
            "requests: \(requestsSent)/\(totalRequests) sent, \(responsesReceived) responses, \(connectionsOpened) connection(s)",
            String(format: "elapsed: %.3f s (%.0f requests/s)", Double(elapsedNs) / 1e9, requestsPerSecond),
        ]
        if !substitutions.isEmpty {
            lines.append(
                "substituted: " + substitutions.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !learned.isEmpty {
            lines.append(
                "live values that differ from the recording: "
                    + learned.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        return lines
    }
}
