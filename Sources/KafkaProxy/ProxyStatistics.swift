import CoreMetrics
import KafkaCapture
import KafkaProtocol
import NIOConcurrencyHelpers

/// Counters behind `record`'s exit summary (`snapshot`) and its metrics, which go out through
/// swift-metrics to the factory the proxy was given (`record --metrics` passes a
/// `PrometheusMetricsFactory` and serves its registry at `/metrics`, see `MetricsServer`).
///
/// No lock is taken per frame: each connection counts its frames in a `Tally`, plain values on its
/// event loop, and adds them here once per read (on read-complete) and when it closes — one lock per
/// batch of frames. What was added since is handed to swift-metrics by `publish()`, which runs
/// when `/metrics` is scraped, once a second while the proxy runs and when it stops; so the metrics
/// factory's own locks (swift-prometheus' histograms take one per observation, its counters are
/// atomics) are never taken on the forwarding path either.
public final class ProxyStatistics: Sendable {
    /// Latency histogram bucket upper bounds, in seconds (Prometheus `le`).
    public static let latencyBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    /// Metric names (labels in brackets); every one starts with `kafkatape_`.
    public enum MetricName {
        /// Requests forwarded [api, api_key, api_version].
        public static let requests = "kafkatape_requests_total"
        /// Request bytes with their size prefix [api, api_key, api_version].
        public static let requestBytes = "kafkatape_request_bytes_total"
        /// Responses paired with a request [api, api_key, api_version].
        public static let responses = "kafkatape_responses_total"
        /// Response bytes with their size prefix [api, api_key, api_version].
        public static let responseBytes = "kafkatape_response_bytes_total"
        /// Time from request to response through the proxy, seconds, a histogram [api, api_key].
        public static let latency = "kafkatape_request_latency_seconds"
        /// Client connections accepted (counter).
        public static let connections = "kafkatape_connections_total"
        /// Client connections open now (gauge).
        public static let activeConnections = "kafkatape_connections_active"
        /// Bytes written to the capture file (counter; only with a capture).
        public static let captureBytesWritten = "kafkatape_capture_bytes_written_total"
        /// Capture bytes queued for the writer thread (gauge; only with a capture).
        public static let captureBacklog = "kafkatape_capture_backlog_bytes"
        /// Responses changed by a staged fault (counter).
        public static let faults = "kafkatape_faults_injected_total"
        /// Flight-recorder triggers fired (counter).
        public static let triggers = "kafkatape_flight_recorder_triggers_total"
        /// Responses whose broker addresses were rewritten (counter).
        public static let rewrites = "kafkatape_address_rewrites_total"
        /// Connections dropped for a bad frame size (counter).
        public static let malformedFrames = "kafkatape_malformed_frames_total"
        /// Upstream connections that could not be made (counter).
        public static let upstreamFailures = "kafkatape_upstream_failures_total"
    }

    /// An API key and version: what traffic is counted by.
    public struct ApiVersion: Hashable, Sendable {
        /// The API key (`KafkaAPIs` names it).
        public var apiKey: Int16
        /// The request's version.
        public var apiVersion: Int16
    }

    /// Requests and responses of one API version, with their bytes (each with its 4-byte size prefix).
    public struct Traffic: Sendable {
        /// Requests forwarded.
        public var requests = 0
        /// Their bytes, size prefix included.
        public var requestBytes = 0
        /// Responses forwarded.
        public var responses = 0
        /// Their bytes, size prefix included.
        public var responseBytes = 0

        /// One request of `bytes` (size prefix included).
        mutating func countRequest(bytes: Int) {
            requests += 1
            requestBytes += bytes
        }

        /// One response of `bytes` (size prefix included).
        mutating func countResponse(bytes: Int) {
            responses += 1
            responseBytes += bytes
        }

        mutating func add(_ other: Traffic) {
            requests += other.requests
            requestBytes += other.requestBytes
            responses += other.responses
            responseBytes += other.responseBytes
        }
    }

    /// Request-to-response latencies of one API, as a cumulative histogram over `latencyBuckets`.
    public struct Latency: Sendable {
        /// Cumulative counts per bucket of `latencyBuckets`, then +Inf as `count`.
        public var buckets = [Int](repeating: 0, count: ProxyStatistics.latencyBuckets.count)
        /// Responses measured.
        public var count = 0
        /// Their latencies added up, in seconds (Prometheus `_sum`).
        public var sumSeconds = 0.0
    }

    /// Everything counted so far, for `record`'s summary: up to each connection's last read.
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

    /// Latencies of one API, bucket by bucket (not cumulative; the last slot is above every bound):
    /// how many and their sum, enough to hand them on to a histogram exactly (see `publish`).
    struct LatencyTally {
        var counts = [Int](repeating: 0, count: ProxyStatistics.latencyBuckets.count + 1)
        var sums = [Double](repeating: 0, count: ProxyStatistics.latencyBuckets.count + 1)

        mutating func add(seconds: Double) {
            let i = ProxyStatistics.latencyBuckets.firstIndex { seconds <= $0 } ?? ProxyStatistics.latencyBuckets.count
            counts[i] += 1
            sums[i] += seconds
        }

        mutating func reset() {
            for i in counts.indices {
                counts[i] = 0
                sums[i] = 0
            }
        }

        mutating func add(_ other: LatencyTally) {
            for i in counts.indices {
                counts[i] += other.counts[i]
                sums[i] += other.sums[i]
            }
        }
    }

    /// What one connection counted since it last added it here: plain values, touched only on the
    /// connection's event loop. The methods are the per-frame half of the statistics.
    struct Tally {
        var traffic: [ApiVersion: Traffic] = [:]
        var latency: [Int16: LatencyTally] = [:]
        var bytesFromClients = 0
        var bytesFromBrokers = 0

        var isEmpty: Bool { bytesFromClients == 0 && bytesFromBrokers == 0 }

        /// Every count back to zero; the keys stay (zeros add nothing where they are added).
        mutating func reset() {
            var t = traffic.startIndex
            while t != traffic.endIndex {
                traffic.values[t] = Traffic()
                traffic.formIndex(after: &t)
            }
            var l = latency.startIndex
            while l != latency.endIndex {
                latency.values[l].reset()
                latency.formIndex(after: &l)
            }
            bytesFromClients = 0
            bytesFromBrokers = 0
        }

        mutating func request(apiKey: Int16, apiVersion: Int16, bytes: Int) {
            bytesFromClients += bytes + 4
            let k = ApiVersion(apiKey: apiKey, apiVersion: apiVersion)
            // One lookup per frame: the default subscript mutates the stored value in place.
            traffic[k, default: Traffic()].countRequest(bytes: bytes + 4)
        }

        /// A response that matched no request (counted in bytes only).
        mutating func response(bytes: Int) { bytesFromBrokers += bytes + 4 }

        /// A response paired with its request: bytes, per-API traffic and latency.
        mutating func exchange(apiKey: Int16, apiVersion: Int16, responseBytes: Int, latencyNs: UInt64) {
            bytesFromBrokers += responseBytes + 4
            let k = ApiVersion(apiKey: apiKey, apiVersion: apiVersion)
            traffic[k, default: Traffic()].countResponse(bytes: responseBytes + 4)
            latency[apiKey, default: LatencyTally()].add(seconds: Double(latencyNs) / 1e9)
        }

        mutating func add(_ other: Tally) {
            for (k, t) in other.traffic { traffic[k, default: Traffic()].add(t) }
            for (k, l) in other.latency { latency[k, default: LatencyTally()].add(l) }
            bytesFromClients += other.bytesFromClients
            bytesFromBrokers += other.bytesFromBrokers
        }
    }

    /// Counts not yet handed to swift-metrics.
    struct Unpublished {
        var tally = Tally()
        var connections = 0
        var rewrites = 0
        var malformedFrames = 0
        var upstreamFailures = 0
        var faultsInjected = 0
        var triggers = 0
    }

    struct State {
        var snapshot = Snapshot()
        var unpublished = Unpublished()
    }

    private let state = NIOLockedValueBox(State())
    private let metrics: NIOLockedValueBox<Metrics>
    /// False for swift-metrics' no-op factory: nothing is ever published, and nothing needs to be.
    public let publishesMetrics: Bool

    /// - Parameter metricsFactory: where the metrics go; by default nowhere (swift-metrics' no-op
    ///   factory). A library does not bootstrap the global `MetricsSystem`: pass the factory (for
    ///   Prometheus, `MetricsServer.makeFactory(registry:)`).
    public init(metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance) {
        metrics = NIOLockedValueBox(Metrics(factory: metricsFactory))
        publishesMetrics = !(metricsFactory is NOOPMetricsHandler)
    }

    /// The counts so far (a copy).
    public var snapshot: Snapshot { state.withLockedValue { $0.snapshot } }

    /// Adds a connection's tally (one lock for however many frames it counted) and empties it.
    func add(_ tally: inout Tally) {
        guard !tally.isEmpty else { return }
        state.withLockedValue {
            $0.snapshot.add(tally)
            if publishesMetrics { $0.unpublished.tally.add(tally) }
        }
        // Zeroed in place, keeping its dictionaries and arrays: a fresh `Tally()` would allocate
        // them again on the next frame, on every read batch.
        tally.reset()
    }

    // Once per connection or per rare event: straight here.

    func connectionOpened() {
        update {
            $0.snapshot.connections += 1
            $0.snapshot.activeConnections += 1
            $0.unpublished.connections += 1
        }
    }

    func connectionClosed() { update { $0.snapshot.activeConnections -= 1 } }

    func rewrite() { count(\.rewrites, \.rewrites) }
    func malformed() { count(\.malformedFrames, \.malformedFrames) }
    func upstreamFailure() { count(\.upstreamFailures, \.upstreamFailures) }
    func fault() { count(\.faultsInjected, \.faultsInjected) }
    func trigger() { count(\.triggers, \.triggers) }

    /// One more of a rare event, in the snapshot and in what is still to be published.
    private func count(_ inSnapshot: WritableKeyPath<Snapshot, Int>, _ unpublished: WritableKeyPath<Unpublished, Int>) {
        update {
            $0.snapshot[keyPath: inSnapshot] += 1
            $0.unpublished[keyPath: unpublished] += 1
        }
    }

    private func update(_ body: (inout State) -> Void) { state.withLockedValue(body) }

    /// Hands everything counted since the last call to the metrics factory, with the capture's bytes
    /// written and backlog when there is a capture. Runs off the forwarding path: on a scrape, on the
    /// proxy's once-a-second timer, and at stop.
    public func publish(capture: (any ProxyCaptureSink)? = nil) {
        guard publishesMetrics else { return }
        // Serialised, so two publishers cannot both see the same capture byte count as new.
        metrics.withLockedValue { metrics in
            let (unpublished, active) = state.withLockedValue { s -> (Unpublished, Int) in
                defer { s.unpublished = Unpublished() }
                return (s.unpublished, s.snapshot.activeConnections)
            }
            metrics.publish(unpublished, activeConnections: active)
            if let capture { metrics.publishCapture(bytesWritten: capture.bytesWritten, backlog: capture.backlogBytes) }
        }
    }
}

extension ProxyStatistics.Snapshot {
    mutating func add(_ t: ProxyStatistics.Tally) {
        bytesFromClients += t.bytesFromClients
        bytesFromBrokers += t.bytesFromBrokers
        for (k, traffic) in t.traffic {
            self.traffic[k, default: ProxyStatistics.Traffic()].add(traffic)
            requestsByApi[k.apiKey, default: 0] += traffic.requests
        }
        for (apiKey, tally) in t.latency {
            var l = latency[apiKey] ?? ProxyStatistics.Latency()
            var cumulative = 0
            for i in l.buckets.indices {
                cumulative += tally.counts[i]
                l.buckets[i] += cumulative
            }
            l.count += tally.counts.reduce(0, +)
            l.sumSeconds += tally.sums.reduce(0, +)
            latency[apiKey] = l
        }
    }
}
