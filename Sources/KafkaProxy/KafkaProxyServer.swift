import CoreMetrics
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The transparent Kafka proxy behind `kafkatape record`.
///
/// Clients connect to the bootstrap listener; every upstream broker seen in a Metadata,
/// FindCoordinator or DescribeCluster answer (or a NodeEndpoints leader hint) gets a listener of its
/// own, and the answer is rewritten to point at it, so no client connection escapes the proxy.
/// Bytes are forwarded unchanged otherwise; every frame goes to the capture sink as received.
public final class KafkaProxyServer: Sendable {
    /// What the proxy was started with.
    public let configuration: ProxyConfiguration
    /// Live counters (connections, requests per API, bytes, latencies) for the summary and `/metrics`.
    public let statistics: ProxyStatistics
    let faultState = FaultSharedState()
    let group: any EventLoopGroup
    let ownsGroup: Bool
    /// Where every frame and connection event goes; nil forwards without recording.
    public let capture: (any ProxyCaptureSink)?
    let clock: any CaptureClock
    let logger: Logger
    let state = NIOLockedValueBox(State())
    /// Bytes all connections hold in incomplete frames (`--max-buffered-bytes`).
    public let budget: BufferBudget
    /// `ProxyConnection` objects alive (created, not yet deinitialised): back to zero once every
    /// connection closed, or something holds on to closed connections.
    let liveConnectionObjects = NIOLockedValueBox(0)
    /// Gives closed connections' memory back after a burst (see `AllocatorTrim`).
    let allocatorTrim = AllocatorTrim()
    /// Warnings meant for whoever runs the proxy (the CLI prints them on stderr).
    let onWarning: @Sendable (String) -> Void

    struct NodeListener {
        /// What the broker advertised for the node (nil: a `--node-port` listener bound at start,
        /// before any broker named the node).
        var advertised: HostPort?
        /// Where connections to the node really go (`--upstream-node`, else the advertised address).
        var upstream: HostPort
        var port: Int
        var channel: (any Channel)?
        var ready: EventLoopFuture<Int>
    }

    struct State {
        var bootstrapChannel: (any Channel)?
        var bootstrapPort = 0
        var nodes: [Int32: NodeListener] = [:]
        var connections: [UInt64: ProxyConnection] = [:]
        var nextConnectionId: UInt64 = 1
        var stopping = false
        /// Hands the statistics to the metrics factory once a second (only with a real factory).
        var publisher: RepeatedTask?
    }

    /// - Parameters:
    ///   - capture: where frames go; nil forwards without recording (benchmarks: "capture off").
    ///   - group: an event loop group to share; by default the proxy makes one with a thread per core.
    ///   - onWarning: called (on any thread) with warnings for the person running the proxy, such as a
    ///     node listener that had to take another port than the documented one.
    ///   - metricsFactory: where the `kafkatape_*` metrics go (swift-metrics); by default nowhere. The
    ///     proxy never uses the global `MetricsSystem`: `record --metrics` passes
    ///     `MetricsServer.makeFactory(registry:)` and serves that registry.
    public init(
        configuration: ProxyConfiguration, capture: (any ProxyCaptureSink)?, clock: any CaptureClock = SystemCaptureClock(),
        group: (any EventLoopGroup)? = nil, logger: Logger = Logger(label: "kafkatape.proxy"),
        onWarning: @escaping @Sendable (String) -> Void = { _ in },
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        self.configuration = configuration
        statistics = ProxyStatistics(metricsFactory: metricsFactory)
        self.onWarning = onWarning
        budget = BufferBudget(limit: configuration.maxBufferedBytes)
        self.capture = capture
        self.clock = clock
        self.logger = logger
        if let group {
            self.group = group
            ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
            ownsGroup = true
        }
    }

    /// The event loops the proxy runs on (share them for side servers such as metrics).
    public var eventLoopGroup: any EventLoopGroup { group }

    /// The bootstrap listener's port (useful with port 0).
    public var bootstrapPort: Int { state.withLockedValue { $0.bootstrapPort } }

    /// Current node id -> proxy port mapping.
    public var nodePorts: [Int32: Int] { state.withLockedValue { $0.nodes.mapValues(\.port) } }

    /// Client connections open now (each with its upstream connection).
    public var activeConnections: Int { state.withLockedValue { $0.connections.count } }

    /// Binds the bootstrap listener, and the listener of every node given an explicit port
    /// (`--node-port`): a port asked for by name that cannot be had fails the start
    /// (`NodeListenerError`), instead of a client later being sent past the proxy.
    public func start() async throws {
        capture?.setWritabilityHandler { [weak self] in self?.captureBecameWritable() }
        let channel = try await makeListener(host: configuration.listen.host, port: configuration.listen.port, nodeId: nil)
            .get()
        let port = channel.localAddress?.port ?? configuration.listen.port
        state.withLockedValue {
            $0.bootstrapChannel = channel
            $0.bootstrapPort = port
        }
        for (nodeId, nodePort) in configuration.nodePorts.sorted(by: { $0.key < $1.key }) {
            do {
                let listener = try await makeListener(host: configuration.listen.host, port: nodePort, nodeId: nodeId).get()
                let bound = listener.localAddress?.port ?? nodePort
                let upstream = configuration.upstreamNodes.address(forNode: nodeId) ?? configuration.upstream
                state.withLockedValue {
                    $0.nodes[nodeId] = NodeListener(
                        advertised: nil, upstream: upstream, port: bound, channel: listener,
                        ready: listener.eventLoop.makeSucceededFuture(bound))
                }
            } catch {
                await stop()
                throw NodeListenerError(nodeId: nodeId, port: nodePort, underlying: "\(error)")
            }
        }
        if statistics.publishesMetrics {
            let task = group.next().scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
                self?.publishMetrics()
            }
            state.withLockedValue { $0.publisher = task }
        }
        logger.info("listening", metadata: ["address": "\(configuration.listen.host):\(port)", "upstream": "\(configuration.upstream)"])
    }

    /// Hands the statistics counted so far, and the capture's progress, to the metrics factory (a
    /// scrape calls it first; it also runs once a second and at stop).
    public func publishMetrics() {
        statistics.publish(capture: capture)
    }

    /// Stops listening, closes every connection, and shuts down the event loops it owns.
    public func stop() async {
        let (channels, connections): ([any Channel], [ProxyConnection]) = state.withLockedValue {
            $0.stopping = true
            var chans: [any Channel] = []
            if let b = $0.bootstrapChannel { chans.append(b) }
            chans.append(contentsOf: $0.nodes.values.compactMap(\.channel))
            return (chans, Array($0.connections.values))
        }
        for c in channels { try? await c.close() }
        for c in connections { c.closeFromProxy(reason: "proxy shutting down") }
        // Give the closes a moment to run on their loops.
        for c in connections { try? await c.closeFuture.get() }
        state.withLockedValue { $0.publisher }?.cancel()
        publishMetrics()
        // The capture writer may still call back as it drains; there is no connection left to resume.
        capture?.setWritabilityHandler {}
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    // MARK: Listeners

    func makeListener(host: String, port: Int, nodeId: Int32?) -> EventLoopFuture<any Channel> {
        let maxFrame = configuration.maxFrameBytes
        let tls = configuration.tls.server
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let connection = self.registerConnection(client: channel, nodeId: nodeId)
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(ClientFramer(connection: connection, maxFrameBytes: maxFrame))
                    try channel.pipeline.syncOperations.addHandler(ProxySideHandler(connection: connection, side: .client))
                }
            }
            .bind(host: host, port: port)
    }

    func registerConnection(client: any Channel, nodeId: Int32?) -> ProxyConnection {
        let id = state.withLockedValue {
            let id = $0.nextConnectionId
            $0.nextConnectionId += 1
            return id
        }
        let connection = ProxyConnection(id: id, server: self, client: client, nodeId: nodeId)
        state.withLockedValue { $0.connections[id] = connection }
        statistics.connectionOpened()
        return connection
    }

    func connectionFinished(_ id: UInt64) {
        state.withLockedValue { _ = $0.connections.removeValue(forKey: id) }
    }

    func connectionObjectCreated() { liveConnectionObjects.withLockedValue { $0 += 1 } }

    func connectionObjectReleased() {
        let live = liveConnectionObjects.withLockedValue { n -> Int in
            n -= 1
            return n
        }
        allocatorTrim.connectionReleased(live: live)
    }

    /// Where a connection accepted on the listener for `nodeId` (nil: bootstrap) should go.
    func upstreamAddress(nodeId: Int32?) -> HostPort {
        guard let nodeId else { return configuration.upstream }
        return state.withLockedValue { $0.nodes[nodeId]?.upstream } ?? configuration.upstream
    }

    /// Ensures a listener exists for an upstream node and returns its proxy port. A node whose
    /// upstream address changed keeps its listener; new connections go to the new address.
    func ensureNodeListener(_ endpoint: KafkaEndpoint, on eventLoop: any EventLoop) -> EventLoopFuture<Int> {
        let advertised = HostPort(host: endpoint.host, port: Int(endpoint.port))
        let upstream = configuration.upstreamNodes.address(forNode: endpoint.nodeId) ?? advertised
        enum Decision {
            case existing(EventLoopFuture<Int>, changed: Bool, port: Int)
            case bind(port: Int, promise: EventLoopPromise<Int>)
        }
        let decision: Decision = state.withLockedValue { s in
            if var existing = s.nodes[endpoint.nodeId] {
                let changed = existing.advertised != advertised
                if changed {
                    existing.advertised = advertised
                    existing.upstream = upstream
                    s.nodes[endpoint.nodeId] = existing
                }
                return .existing(existing.ready, changed: changed, port: existing.port)
            }
            let wanted =
                configuration.derivedNodePort(nodeId: endpoint.nodeId, bootstrapPort: s.bootstrapPort) ?? 0
            let promise = eventLoop.makePromise(of: Int.self)
            s.nodes[endpoint.nodeId] = NodeListener(
                advertised: advertised, upstream: upstream, port: wanted, channel: nil, ready: promise.futureResult)
            // Bind below, outside the lock; complete the promise from there.
            return .bind(port: wanted, promise: promise)
        }
        switch decision {
        case .existing(let ready, let changed, let port):
            if changed { recordMapping(nodeId: endpoint.nodeId, advertised: advertised, upstream: upstream, proxyPort: port) }
            return ready.hop(to: eventLoop)
        case .bind(let port, let promise):
            bindNodeListener(endpoint.nodeId, port: port, advertised: advertised, upstream: upstream, promise: promise)
            return promise.futureResult.hop(to: eventLoop)
        }
    }

    /// Binds a node's listener on `port`. A port that is taken must not let the client bypass the
    /// proxy: the listener falls back to a free port, with a warning and a `node-port-fallback` event.
    /// Only when no port at all can be had does the node stay unmapped, loudly.
    private func bindNodeListener(
        _ nodeId: Int32, port: Int, advertised: HostPort, upstream: HostPort, promise: EventLoopPromise<Int>
    ) {
        makeListener(host: configuration.listen.host, port: port, nodeId: nodeId).whenComplete { result in
            switch result {
            case .success(let channel):
                let bound = channel.localAddress?.port ?? port
                let stopping: Bool = self.state.withLockedValue {
                    $0.nodes[nodeId]?.channel = channel
                    $0.nodes[nodeId]?.port = bound
                    return $0.stopping
                }
                if stopping { channel.close(promise: nil) }
                self.recordMapping(nodeId: nodeId, advertised: advertised, upstream: upstream, proxyPort: bound)
                self.logger.info("node listener", metadata: ["node": "\(nodeId)", "port": "\(bound)", "upstream": "\(upstream)"])
                promise.succeed(bound)
            case .failure(let error) where port != 0:
                let message =
                    "cannot listen for node \(nodeId) on port \(port) (\(error)); using a free port instead: clients reach node \(nodeId) at the port in the capture's address mapping and the rewritten answers"
                self.onWarning("warning: " + message)
                self.recordEvent(
                    kind: "node-port-fallback", connectionId: nil, message: message,
                    attributes: [.init("node", "\(nodeId)"), .init("wantedPort", "\(port)"), .init("error", "\(error)")])
                self.bindNodeListener(nodeId, port: 0, advertised: advertised, upstream: upstream, promise: promise)
            case .failure(let error):
                _ = self.state.withLockedValue { $0.nodes.removeValue(forKey: nodeId) }
                let message =
                    "cannot listen for node \(nodeId) on any port (\(error)): its address is not rewritten and clients will reach it directly, unrecorded"
                self.onWarning("error: " + message)
                self.recordEvent(kind: .upstreamUnreachable, connectionId: nil, message: message)
                promise.fail(error)
            }
        }
    }

    // MARK: Capture

    func now() -> CaptureTimestamp { clock.now() }

    /// Sends a record to the capture; false means "stop reading until told".
    @discardableResult
    func record(_ record: CaptureRecord) -> Bool {
        guard let capture else { return true }
        return capture.submit(record)
    }

    var captureWritable: Bool { capture?.isWritable ?? true }

    func recordEvent(kind: EventRecord.Kind, connectionId: UInt64?, message: String, attributes: [EventRecord.Attribute] = [], payload: ByteBuffer? = nil) {
        record(.event(EventRecord(time: now(), connectionId: connectionId, kind: kind, message: message, attributes: attributes, payload: payload)))
    }

    /// The mapping keeps what the broker advertised; when `--upstream-node` sends the node elsewhere,
    /// an `upstream-override` event says where (each connection's opened record has the address used).
    func recordMapping(nodeId: Int32, advertised: HostPort, upstream: HostPort, proxyPort: Int) {
        record(
            .addressMapping(
                AddressMappingRecord(
                    time: now(), nodeId: nodeId, upstreamHost: advertised.host, upstreamPort: Int32(advertised.port),
                    proxyHost: configuration.effectiveAdvertiseHost, proxyPort: Int32(proxyPort))))
        if advertised != upstream {
            recordEvent(
                kind: .upstreamOverride, connectionId: nil,
                message: "node \(nodeId) advertised \(advertised); connecting to \(upstream) instead (--upstream-node)",
                attributes: [
                    EventRecord.Attribute("node", "\(nodeId)"), EventRecord.Attribute("advertised", advertised.description),
                    EventRecord.Attribute("used", upstream.description),
                ])
        }
    }

    func captureBecameWritable() {
        let connections = state.withLockedValue { $0.stopping ? [] : Array($0.connections.values) }
        for c in connections { c.resumeReading() }
    }
}

