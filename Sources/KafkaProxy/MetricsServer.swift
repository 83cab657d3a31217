import KafkaProtocol
import NIOCore
import NIOHTTP1
import NIOPosix

/// Serves Prometheus text at `/metrics` (`record --metrics HOST:PORT`). Every metric name starts
/// with `kafkatape_`.
public final class MetricsServer: Sendable {
    let channel: any Channel

    /// The port it listens on (useful when started on port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Listens on `host:port` and serves `proxy`'s statistics; throws when the address cannot be bound.
    public init(host: String, port: Int, proxy: KafkaProxyServer, group: any EventLoopGroup) async throws {
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(proxy: proxy))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// Stops listening; a scrape in progress is cut off.
    public func stop() async {
        try? await channel.close()
    }

    /// The exposition text for the proxy's current counters.
    public static func render(_ s: ProxyStatistics.Snapshot, captureBytes: Int?, captureBacklog: Int?) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func apiName(_ k: Int16) -> String { KafkaAPIs.descriptor(apiKey: k)?.name ?? "ApiKey\(k)" }
        let traffic = s.traffic.sorted { ($0.key.apiKey, $0.key.apiVersion) < ($1.key.apiKey, $1.key.apiVersion) }
        for (metric, help, value) in [
            ("kafkatape_requests_total", "Requests forwarded, by API and version.", { (t: ProxyStatistics.Traffic) in t.requests }),
            ("kafkatape_request_bytes_total", "Request bytes (with size prefix), by API and version.", { $0.requestBytes }),
            ("kafkatape_responses_total", "Responses paired with a request, by API and version.", { $0.responses }),
            ("kafkatape_response_bytes_total", "Response bytes (with size prefix), by API and version.", { $0.responseBytes }),
        ] as [(String, String, (ProxyStatistics.Traffic) -> Int)] {
            family(metric, "counter", help)
            for (k, t) in traffic {
                out += "\(metric){api=\"\(apiName(k.apiKey))\",api_key=\"\(k.apiKey)\",api_version=\"\(k.apiVersion)\"} \(value(t))\n"
            }
        }
        family("kafkatape_request_latency_seconds", "histogram", "Time from request to response through the proxy, by API.")
        for (k, l) in s.latency.sorted(by: { $0.key < $1.key }) {
            let labels = "api=\"\(apiName(k))\",api_key=\"\(k)\""
            for (i, bound) in ProxyStatistics.latencyBuckets.enumerated() {
                out += "kafkatape_request_latency_seconds_bucket{\(labels),le=\"\(bound)\"} \(l.buckets[i])\n"
            }
            out += "kafkatape_request_latency_seconds_bucket{\(labels),le=\"+Inf\"} \(l.count)\n"
            out += "kafkatape_request_latency_seconds_sum{\(labels)} \(l.sumSeconds)\n"
            out += "kafkatape_request_latency_seconds_count{\(labels)} \(l.count)\n"
        }
        let scalars: [(String, String, String, Int?)] = [
            ("kafkatape_connections_total", "counter", "Client connections accepted.", s.connections),
            ("kafkatape_connections_active", "gauge", "Client connections open now.", s.activeConnections),
            ("kafkatape_capture_bytes_written_total", "counter", "Bytes written to the capture file.", captureBytes),
            ("kafkatape_capture_backlog_bytes", "gauge", "Capture bytes queued for the writer thread.", captureBacklog),
            ("kafkatape_faults_injected_total", "counter", "Responses changed by a staged fault.", s.faultsInjected),
            ("kafkatape_flight_recorder_triggers_total", "counter", "Flight-recorder triggers fired.", s.triggers),
            ("kafkatape_address_rewrites_total", "counter", "Responses whose broker addresses were rewritten.", s.rewrites),
            ("kafkatape_malformed_frames_total", "counter", "Connections dropped for a bad frame size.", s.malformedFrames),
            ("kafkatape_upstream_failures_total", "counter", "Upstream connections that could not be made.", s.upstreamFailures),
        ]
        for (name, type, help, value) in scalars {
            guard let value else { continue }
            family(name, type, help)
            out += "\(name) \(value)\n"
        }
        return out
    }
}

final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let proxy: KafkaProxyServer
    var path = ""

    init(proxy: KafkaProxyServer) { self.proxy = proxy }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.method == .GET ? head.uri : ""
        case .body:
            break
        case .end:
            let found = path == "/metrics" || path.hasPrefix("/metrics?")
            let body = found
                ? MetricsServer.render(proxy.statistics.snapshot, captureBytes: proxy.capture?.bytesWritten, captureBacklog: proxy.capture?.backlogBytes)
                : "not found: try /metrics\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
