import KafkaProtocol
import NIOConcurrencyHelpers

/// Counters behind `record`'s exit summary and its Prometheus `/metrics`.
public final class ProxyStatistics: Sendable {
    /// Latency histogram bucket upper bounds, in seconds (Prometheus `le`).
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// A request kind as counted: API key and version.
    public struct ApiVersion: Hashable, Sendable {
        /// The API key (`KafkaAPIs` names it).
        public var apiKey: Int16
        /// The request's version.
        public var apiVersion: Int16
    }

    /// Frames and bytes of one API and version, both directions.
    public struct Traffic: Sendable {
        /// Requests forwarded.
        public var requests = 0
        /// Their bytes, size prefix included.
        public var requestBytes = 0
        /// Responses forwarded.
        public var responses = 0
        /// Their bytes, size prefix included.
        public var responseBytes = 0
    }

    /// A Prometheus histogram of response latencies for one API.
    public struct Latency: Sendable {
        /// Cumulative counts per bucket of `latencyBuckets`, then +Inf as `count`.
        public var buckets = [Int](repeating: 0, count: ProxyStatistics.latencyBuckets.count)
        /// Responses measured.
        public var count = 0
        /// Their latencies added up, in seconds (Prometheus `_sum`).
        public var sumSeconds = 0.0
    }

    /// Every counter at one moment, copied out from under the lock.
    public struct Snapshot: Sendable {
        /// Client connections accepted since start.
        public var connections = 0
        /// Client connections open now.
        public var activeConnections = 0
        /// Requests per API key.
        public var requestsByApi: [Int16: Int] = [:]
        /// Frames and bytes per API key and version.
        public var traffic: [ApiVersion: Traffic] = [:]
        /// Response latency histograms per API key.
        public var latency: [Int16: Latency] = [:]
        /// Bytes read from clients.
        public var bytesFromClients = 0
        /// Bytes read from brokers.
        public var bytesFromBrokers = 0
        /// Responses whose broker addresses were rewritten.
        public var rewrites = 0
        /// Connections closed because a client or broker sent bytes that do not frame (a size over the limit, negative).
        public var malformedFrames = 0
        /// Upstream connections that failed or were refused.
        public var upstreamFailures = 0
        /// Faults injected (`--fault`).
        public var faultsInjected = 0
        /// Flight-recorder triggers that fired (`--trigger`).
        public var triggers = 0
    }

    private let state = NIOLockedValueBox(Snapshot())

    /// All counters at zero.
    public init() {}

    /// A consistent copy of every counter.
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
