#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol
import NIOCore
import NIOPosix
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// `--metrics`: Prometheus text over real HTTP, every name prefixed `kafkatape_`.
@Suite struct MetricsTests {
    @Test func metricsEndpointReportsTrafficAndLatency() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upstream = try await ScriptedBroker(group: group) { request in
            request.body is ApiVersionsRequest ? ApiVersionsResponse() : nil
        }
        let sink = MemoryCaptureSink()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: upstream.port)),
            capture: sink, group: group)
        try await proxy.start()
        let metrics = try await MetricsServer(host: "127.0.0.1", port: 0, proxy: proxy, group: group)
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
        #expect(text.contains(#"kafkatape_requests_total{api="ApiVersions",api_key="18",api_version="3"} 3"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_count{api="ApiVersions",api_key="18"} 3"#))
        #expect(text.contains(#"kafkatape_request_latency_seconds_bucket{api="ApiVersions",api_key="18",le="+Inf"} 3"#))
        #expect(text.contains("kafkatape_connections_active 1"))
        #expect(text.contains("kafkatape_capture_backlog_bytes 0"))
        let names = text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains(" ") && !$0.hasPrefix("HTTP") && $0.contains("_") && !$0.contains(":") }
        #expect(names.allSatisfy { $0.hasPrefix("kafkatape_") })
        await metrics.stop()
        await proxy.stop()
        await upstream.stop()
        try await group.shutdownGracefully()
    }
}
