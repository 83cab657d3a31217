import KafkaProtocol
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus

/// Serves Prometheus text at `/metrics` (`record --metrics HOST:PORT`): the swift-prometheus registry
/// the proxy's metrics factory writes to (`makeFactory(registry:)`). Every metric name the proxy
/// makes starts with `kafkatape_`.
public final class MetricsServer: Sendable {
    let channel: any Channel

    /// The port it listens on (useful when started on port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Listens on `host:port` and serves `registry` (into which `proxy` publishes its statistics on
    /// each scrape); throws when the address cannot be bound.
    public init(
        host: String, port: Int, proxy: KafkaProxyServer, registry: PrometheusCollectorRegistry, group: any EventLoopGroup
    ) async throws {
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(proxy: proxy, registry: registry))
                }
            }
            .bind(host: host, port: port).get()
    }

    /// Stops listening; a scrape in progress is cut off.
    public func stop() async {
        try? await channel.close()
    }

    /// A swift-prometheus factory over `registry` for `KafkaProxyServer(metricsFactory:)`: the latency
    /// histogram gets `ProxyStatistics.latencyBuckets` (the factory's defaults are for milliseconds).
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets[ProxyStatistics.MetricName.latency] = ProxyStatistics.latencyBuckets
        return factory
    }

    /// The exposition text: the proxy's statistics are published to the registry first, so a scrape
    /// sees everything counted up to the last read.
    static func render(proxy: KafkaProxyServer, registry: PrometheusCollectorRegistry) -> String {
        proxy.publishMetrics()
        return registry.emitToString()
    }
}

final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let proxy: KafkaProxyServer
    let registry: PrometheusCollectorRegistry
    var path = ""
    var keepAlive = true

    init(proxy: KafkaProxyServer, registry: PrometheusCollectorRegistry) {
        self.proxy = proxy
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.method == .GET ? head.uri : ""
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            let found = path == "/metrics" || path.hasPrefix("/metrics?")
            let body = found
                ? MetricsServer.render(proxy: proxy, registry: registry)
                : "not found: try /metrics\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            // A scraper that sent `Connection: close` (or spoke HTTP/1.0) waits for the close to end the body.
            let close = !keepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                if close { channel.close(promise: nil) }
            }
        }
    }
}
