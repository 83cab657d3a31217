#if canImport(Glibc)
import Glibc
#endif
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix
import Prometheus
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// `--metrics`: the proxy's statistics through swift-metrics into a swift-prometheus registry,
/// served as Prometheus text over real HTTP, every name prefixed `kafkatape_`.
@Suite struct MetricsTests {
    @Test func metricsEndpointReportsTrafficAndLatency() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upstream = try await ScriptedBroker(group: group) { request in
            request.body is ApiVersionsRequest ? ApiVersionsResponse() : nil
        }
        let sink = MemoryCaptureSink()
        let registry = PrometheusCollectorRegistry()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: upstream.port)),
            capture: sink, group: group, metricsFactory: MetricsServer.makeFactory(registry: registry))
        try await proxy.start()
        let metrics = try await MetricsServer(host: "127.0.0.1", port: 0, proxy: proxy, registry: registry, group: group)
        let client = try RawKafkaSocket(port: proxy.bootstrapPort)
        for i in 0..<3 {
            try client.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: Int32(i))
            _ = try client.readFrame()
        }
        let http = try RawKafkaSocket(port: metrics.port)
        try http.sendRaw(Array("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        var text = ""
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(http.fd, &buf, buf.count, 0)
            if n <= 0 { break }
            text += String(decoding: buf[0..<n], as: UTF8.self)
        }
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.contains("Content-Type: text/plain; version=0.0.4"))
        #expect(text.contains(#"kafkatape_requests_total{api="ApiVersions",api_key="18",api_version="3"} 3"#))
        #expect(text.contains(#"kafkatape_responses_total{api="ApiVersions",api_key="18",api_version="3"} 3"#))
        // The request is a header and an empty v3 body; every byte count includes the 4-byte size prefix.
        let requestBytes = try #require(Self.value(text, #"kafkatape_request_bytes_total{api="ApiVersions",api_key="18",api_version="3"}"#))
        #expect(requestBytes > 3 * 4 && Int(requestBytes) % 3 == 0)
        #expect(text.contains("# TYPE kafkatape_request_latency_seconds histogram"))
        #expect(text.contains(#"kafkatape_request_latency_seconds_count{api="ApiVersions",api_key="18"} 3"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="ApiVersions",api_key="18",le="+Inf"} 3"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="ApiVersions",api_key="18",le="30.0"} 3"#))
        let sum = try #require(Self.value(text, #"kafkatape_request_latency_seconds_sum{api="ApiVersions",api_key="18"}"#))
        #expect(sum > 0 && sum < 30)
        #expect(text.contains("# TYPE kafkatape_connections_total counter"))
        #expect(text.contains("kafkatape_connections_total 1\n"))
        #expect(text.contains("# TYPE kafkatape_connections_active gauge"))
        #expect(text.contains("kafkatape_connections_active 1.0\n"))
        #expect(text.contains("kafkatape_capture_backlog_bytes 0.0\n"))
        #expect(text.contains("kafkatape_capture_bytes_written_total 0\n"))
        #expect(text.contains("kafkatape_malformed_frames_total 0\n"))
        #expect(text.contains("kafkatape_address_rewrites_total 0\n"))
        let names = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(" ") && !$0.hasPrefix("HTTP") && $0.contains("_") && !$0.contains(":") }
        #expect(names.allSatisfy { $0.hasPrefix("kafkatape_") })
        await metrics.stop()
        await proxy.stop()
        await upstream.stop()
        try await group.shutdownGracefully()
    }

    /// The value of the sample line starting with `series`.
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// Connections count frames in a tally and add it once per read; `publish` hands what was added to
    /// the factory, latencies bucket by bucket: the histogram gets exact bucket counts, count and sum,
    /// and nothing is published twice.
    @Test func talliesReachTheRegistryExactlyOnce() throws {
        let registry = PrometheusCollectorRegistry()
        let statistics = ProxyStatistics(metricsFactory: MetricsServer.makeFactory(registry: registry))
        var tally = ProxyStatistics.Tally()
        tally.request(apiKey: 0, apiVersion: 9, bytes: 96)
        tally.request(apiKey: 0, apiVersion: 9, bytes: 96)
        tally.request(apiKey: 3, apiVersion: 12, bytes: 20)
        tally.exchange(apiKey: 0, apiVersion: 9, responseBytes: 40, latencyNs: 700_000)  // 0.0007 s: le 0.001
        tally.exchange(apiKey: 0, apiVersion: 9, responseBytes: 40, latencyNs: 900_000)  // 0.0009 s: le 0.001
        tally.exchange(apiKey: 3, apiVersion: 12, responseBytes: 60, latencyNs: 40_000_000_000)  // 40 s: only +Inf
        tally.response(bytes: 10)
        statistics.add(&tally)
        #expect(tally.isEmpty, "adding empties the tally")
        // Nothing reaches the registry before a publish.
        #expect(!registry.emitToString().contains("kafkatape_requests_total{"))
        statistics.publish()
        statistics.publish()
        let text = registry.emitToString()
        #expect(text.contains(#"kafkatape_requests_total{api="Produce",api_key="0",api_version="9"} 2"#))
        #expect(text.contains(#"kafkatape_request_bytes_total{api="Produce",api_key="0",api_version="9"} 200"#))
        #expect(text.contains(#"kafkatape_response_bytes_total{api="Produce",api_key="0",api_version="9"} 88"#))
        #expect(text.contains(#"kafkatape_requests_total{api="Metadata",api_key="3",api_version="12"} 1"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="Produce",api_key="0",le="0.0005"} 0"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="Produce",api_key="0",le="0.001"} 2"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="Produce",api_key="0",le="30.0"} 2"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_count{api="Produce",api_key="0"} 2"#))
        let produceSum = try #require(Self.value(text, #"kafkatape_request_latency_seconds_sum{api="Produce",api_key="0"}"#))
        #expect(abs(produceSum - 0.0016) < 1e-12)
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="Metadata",api_key="3",le="30.0"} 0"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="Metadata",api_key="3",le="+Inf"} 1"#))
        let metadataSum = try #require(Self.value(text, #"kafkatape_request_latency_seconds_sum{api="Metadata",api_key="3"}"#))
        #expect(abs(metadataSum - 40) < 1e-9)
        // The summary counts the same frames.
        let s = statistics.snapshot
        #expect(s.requestsByApi == [0: 2, 3: 1])
        #expect(s.bytesFromClients == 200 + 24)
        #expect(s.bytesFromBrokers == 88 + 64 + 14)
        #expect(s.latency[0]?.buckets[1] == 2 && s.latency[0]?.count == 2)
        #expect(s.latency[3]?.buckets.last == 0 && s.latency[3]?.count == 1)
        // A second batch adds to the first.
        tally.request(apiKey: 0, apiVersion: 9, bytes: 96)
        statistics.add(&tally)
        statistics.publish()
        #expect(registry.emitToString().contains(#"kafkatape_requests_total{api="Produce",api_key="0",api_version="9"} 3"#))
    }

    /// Without a factory the statistics still count for the summary, and publish nothing.
    @Test func withoutAFactoryOnlyTheSummaryCounts() {
        let statistics = ProxyStatistics()
        #expect(!statistics.publishesMetrics)
        var tally = ProxyStatistics.Tally()
        tally.request(apiKey: 18, apiVersion: 3, bytes: 10)
        statistics.add(&tally)
        statistics.publish()
        #expect(statistics.snapshot.requestsByApi == [18: 1])
    }

    /// The value observed for a bucket's latencies is their mean, kept inside the bucket.
    @Test func representativeLatencyStaysInItsBucket() {
        let bounds = ProxyStatistics.latencyBuckets
        for (bucket, count, sum) in [(0, 3, 0.0003), (1, 2, 0.0016), (2, 3, 3 * 0.0025), (15, 1, 40.0), (4, 3, 0.03)] {
            let v = ProxyStatistics.Metrics.representative(bucket: bucket, count: count, sum: sum)
            if bucket < bounds.count { #expect(v <= bounds[bucket], "bucket \(bucket): \(v)") }
            if bucket > 0 { #expect(v > bounds[bucket - 1], "bucket \(bucket): \(v)") }
        }
        #expect(ProxyStatistics.Metrics.representative(bucket: 1, count: 2, sum: 0.0016) == 0.0008)
    }
}
