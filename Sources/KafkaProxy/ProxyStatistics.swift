import KafkaProtocol
import NIOConcurrencyHelpers

/// Counters behind `record`'s exit summary and its Prometheus `/metrics`.
public final class ProxyStatistics: Sendable {
    /// Latency histogram bucket upper bounds, in seconds (Prometheus `le`).
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    public struct ApiVersion: Hashable, Sendable {
        public var apiKey: Int16
        public var apiVersion: Int16
    }

    public struct Traffic: Sendable {
        public var requests = 0
        public var requestBytes = 0
        public var responses = 0
        public var responseBytes = 0
    }

    public struct Latency: Sendable {
        /// Cumulative counts per bucket of `latencyBuckets`, then +Inf as `count`.
        public var buckets = [Int](repeating: 0, count: ProxyStatistics.latencyBuckets.count)
        public var count = 0
        public var sumSeconds = 0.0
    }

    public struct Snapshot: Sendable {
        public var connections = 0
        public var activeConnections = 0
        public var requestsByApi: [Int16: Int] = [:]
        public var traffic: [ApiVersion: Traffic] = [:]
        public var latency: [Int16: Latency] = [:]
        public var bytesFromClients = 0
        public var bytesFromBrokers = 0
        public var rewrites = 0
        public var malformedFrames = 0
        public var upstreamFailures = 0
        public var faultsInjected = 0
        public var triggers = 0
    }

    private let state = NIOLockedValueBox(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLockedValue { $0 } }

    func connectionOpened() {
        state.withLockedValue {
            $0.connections += 1
            $0.activeConnections += 1
        }
    }

    func connectionClosed() { state.withLockedValue { $0.activeConnections -= 1 } }

    func request(apiKey: Int16, apiVersion: Int16, bytes: Int) {
        state.withLockedValue {
            $0.requestsByApi[apiKey, default: 0] += 1
            $0.bytesFromClients += bytes + 4
            let k = ApiVersion(apiKey: apiKey, apiVersion: apiVersion)
            $0.traffic[k, default: Traffic()].requests += 1
            $0.traffic[k, default: Traffic()].requestBytes += bytes + 4
        }
    }

    /// A response that matched no request (counted in bytes only).
    func response(bytes: Int) { state.withLockedValue { $0.bytesFromBrokers += bytes + 4 } }

    /// A response paired with its request: bytes, per-API traffic and latency, in one update.

    func exchange(apiKey: Int16, apiVersion: Int16, responseBytes: Int, latencyNs: UInt64) {
        let seconds = Double(latencyNs) / 1e9
        state.withLockedValue {
            $0.bytesFromBrokers += responseBytes + 4
            let k = ApiVersion(apiKey: apiKey, apiVersion: apiVersion)
            $0.traffic[k, default: Traffic()].responses += 1
            $0.traffic[k, default: Traffic()].responseBytes += responseBytes + 4
            var l = $0.latency[apiKey] ?? Latency()
            for (i, bound) in Self.latencyBuckets.enumerated() where seconds <= bound { l.buckets[i] += 1 }
            l.count += 1
            l.sumSeconds += seconds
            $0.latency[apiKey] = l
        }
    }

    func rewrite() { state.withLockedValue { $0.rewrites += 1 } }
    func malformed() { state.withLockedValue { $0.malformedFrames += 1 } }
    func upstreamFailure() { state.withLockedValue { $0.upstreamFailures += 1 } }
    func fault() { state.withLockedValue { $0.faultsInjected += 1 } }
    func trigger() { state.withLockedValue { $0.triggers += 1 } }
}
