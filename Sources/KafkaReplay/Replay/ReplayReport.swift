import Foundation
import KafkaCapture

/// Why a replay stopped before the end.
public enum ReplayFailure: Error, Hashable, Sendable, CustomStringConvertible {
    case targetUnreachable(address: String, connection: UInt64, reason: String)
    /// The target answered "unknown topic" where the recording had an answer for the topic.
    case missingTopic(topic: String, api: String, connection: UInt64, error: String)
    case noResponse(connection: UInt64, correlationId: Int32, api: String, waitedMs: Int64)
    case connectionLost(connection: UInt64, outstanding: Int)
    case unknownNode(nodeId: Int32, known: [Int32])
    case substitutionFailed(connection: UInt64, correlationId: Int32, api: String, detail: String)

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
    public var totalRequests: Int
    public var requestsSent: Int
    public var responsesReceived: Int
    public var connectionsOpened: Int
    /// Substituted values per binding kind.
    public var substitutions: [String: Int]
    /// Learned bindings that changed a value (recorded != replayed), per kind.
    public var learned: [String: Int]
    public var elapsedNs: UInt64
    public var failure: ReplayFailure?
    public var warnings: [String]

    public var completed: Bool { failure == nil && requestsSent == totalRequests }

    public var requestsPerSecond: Double {
        elapsedNs == 0 ? 0 : Double(requestsSent) / (Double(elapsedNs) / 1e9)
    }

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
