import CoreMetrics
import KafkaProtocol

extension ProxyStatistics {
    /// The swift-metrics side: a handle per metric and label set, made the first time it is needed and
    /// reused (making one goes through the factory, which may lock its registry). Only `publish` uses
    /// them, never the forwarding path.
    struct Metrics {
        struct TrafficHandles {
            var requests: Counter
            var requestBytes: Counter
            var responses: Counter
            var responseBytes: Counter
        }

        let factory: any MetricsFactory
        var traffic: [ApiVersion: TrafficHandles] = [:]
        var latency: [Int16: Recorder] = [:]
        let connections: Counter
        let activeConnections: Gauge
        let rewrites: Counter
        let malformedFrames: Counter
        let upstreamFailures: Counter
        let faults: Counter
        let triggers: Counter
        /// Made only for a proxy that has a capture.
        var capture: (bytesWritten: Counter, backlog: Gauge, published: Int)?

        init(factory: any MetricsFactory) {
            self.factory = factory
            // The scalars exist from the start, so a scrape shows them at 0.
            connections = Counter(label: MetricName.connections, factory: factory)
            activeConnections = Gauge(label: MetricName.activeConnections, factory: factory)
            rewrites = Counter(label: MetricName.rewrites, factory: factory)
            malformedFrames = Counter(label: MetricName.malformedFrames, factory: factory)
            upstreamFailures = Counter(label: MetricName.upstreamFailures, factory: factory)
            faults = Counter(label: MetricName.faults, factory: factory)
            triggers = Counter(label: MetricName.triggers, factory: factory)
        }

        static func apiName(_ apiKey: Int16) -> String { KafkaAPIs.descriptor(apiKey: apiKey)?.name ?? "ApiKey\(apiKey)" }

        mutating func publish(_ u: Unpublished, activeConnections active: Int) {
            for (k, t) in u.tally.traffic {
                let h = trafficHandles(k)
                Self.increment(h.requests, t.requests)
                Self.increment(h.requestBytes, t.requestBytes)
                Self.increment(h.responses, t.responses)
                Self.increment(h.responseBytes, t.responseBytes)
            }
            for (apiKey, tally) in u.tally.latency {
                let recorder = latencyRecorder(apiKey)
                for (i, count) in tally.counts.enumerated() where count > 0 {
                    let value = Self.representative(bucket: i, count: count, sum: tally.sums[i])
                    for _ in 0..<count { recorder.record(value) }
                }
            }
            Self.increment(connections, u.connections)
            activeConnections.record(active)
            Self.increment(rewrites, u.rewrites)
            Self.increment(malformedFrames, u.malformedFrames)
            Self.increment(upstreamFailures, u.upstreamFailures)
            Self.increment(faults, u.faultsInjected)
            Self.increment(triggers, u.triggers)
        }

        mutating func publishCapture(bytesWritten: Int, backlog: Int) {
            var c: (bytesWritten: Counter, backlog: Gauge, published: Int)
            if let capture {
                c = capture
            } else {
                c = (Counter(label: MetricName.captureBytesWritten, factory: factory), Gauge(label: MetricName.captureBacklog, factory: factory), 0)
            }
            // The sink reports a running total; the counter takes what is new since the last publish.
            Self.increment(c.bytesWritten, bytesWritten - c.published)
            c.published = max(c.published, bytesWritten)
            c.backlog.record(backlog)
            capture = c
        }

        /// The value to observe `count` times for latencies that fell into bucket `bucket` and add up to
        /// `sum`: their mean, which lies in the same bucket (clamped against rounding), so the histogram
        /// gets the exact bucket counts, count and sum without seeing every latency one by one.
        static func representative(bucket: Int, count: Int, sum: Double) -> Double {
            let bounds = ProxyStatistics.latencyBuckets
            var value = sum / Double(count)
            if bucket < bounds.count { value = min(value, bounds[bucket]) }
            if bucket > 0, value <= bounds[bucket - 1] { value = bounds[bucket - 1].nextUp }
            return max(value, 0)
        }

        static func increment(_ counter: Counter, _ by: Int) {
            if by > 0 { counter.increment(by: by) }
        }

        mutating func trafficHandles(_ k: ApiVersion) -> TrafficHandles {
            if let h = traffic[k] { return h }
            let labels = [("api", Self.apiName(k.apiKey)), ("api_key", String(k.apiKey)), ("api_version", String(k.apiVersion))]
            let h = TrafficHandles(
                requests: Counter(label: MetricName.requests, dimensions: labels, factory: factory),
                requestBytes: Counter(label: MetricName.requestBytes, dimensions: labels, factory: factory),
                responses: Counter(label: MetricName.responses, dimensions: labels, factory: factory),
                responseBytes: Counter(label: MetricName.responseBytes, dimensions: labels, factory: factory))
            traffic[k] = h
            return h
        }

        mutating func latencyRecorder(_ apiKey: Int16) -> Recorder {
            if let r = latency[apiKey] { return r }
            let r = Recorder(
                label: MetricName.latency, dimensions: [("api", Self.apiName(apiKey)), ("api_key", String(apiKey))], aggregate: true,
                factory: factory)
            latency[apiKey] = r
            return r
        }
    }
}
