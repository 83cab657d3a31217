import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A mock Kafka broker that answers from a capture: `kafkatape serve`, and a library API so a test
/// can start one in-process, point a client at it and stop it.
///
/// It listens like the recorded cluster: a bootstrap listener plus one listener per recorded broker
/// node. Each request is matched to a recorded request (`ServeMatcher`: same API key and version,
/// same content after normalisation with the rules `diff` uses) and answered with the recorded
/// response, its correlation id rewritten and every broker address pointing at this server's
/// listeners. Fetch answers may be held for their recorded latency (`ServeLatency`); otherwise
/// long polls are answered at once. A request without a match follows `ServeMissPolicy` and is
/// reported in `report`.
///
/// ```swift
/// let server = CaptureServer(session: try RecordedSession.read(path: "cap.ktape"),
///                            configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0)))
/// try await server.start()
/// // point a client at server.bootstrapAddress ...
/// await server.stop()
/// ```
public final class CaptureServer: Sendable {
    /// The recorded session, prepared: every request normalised once, with its answer.
    public let script: ServeScript
    /// Where to listen and how to match and answer.
    public let configuration: ServeConfiguration
    let group: any EventLoopGroup
    let ownsGroup: Bool
    let logger: Logger
    let state: NIOLockedValueBox<State>
    let playedThroughPromise: EventLoopPromise<Void>

    struct State {
        var matcher: ServeMatcher
        var report = ServeReport()
        var bootstrapChannel: (any Channel)?
        var bootstrapPort = 0
        var nodeChannels: [Int32: any Channel] = [:]
        var nodePorts: [Int32: Int] = [:]
        var liveChannels: [UInt64: any Channel] = [:]
        var nextConnectionId: UInt64 = 1
        var stopping = false
        /// `playedThroughPromise` was completed (it is completed exactly once).
        var promiseCompleted = false
        var finished = false
    }

    /// A server for `session`, matched with `configuration.rules`; without `group` it makes (and shuts down) its own.
    public convenience init(
        session: RecordedSession, configuration: ServeConfiguration, group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "kafkatape.serve")
    ) {
        self.init(script: ServeScript(session: session, rules: configuration.rules), configuration: configuration, group: group, logger: logger)
    }

    /// A server for an already prepared `script` (so several servers can share one).
    public init(
        script: ServeScript, configuration: ServeConfiguration, group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "kafkatape.serve")
    ) {
        self.script = script
        self.configuration = configuration
        self.logger = logger
        if let group {
            self.group = group
            ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            ownsGroup = true
        }
        state = NIOLockedValueBox(State(matcher: ServeMatcher(script: script)))
        playedThroughPromise = self.group.next().makePromise(of: Void.self)
    }

    deinit {
        // A server dropped without stop() must not leave its promise unfulfilled. (After stop() it is
        // already completed, and an owned event loop group is gone: completing it again would try to
        // schedule on a loop that has shut down.)
        completePlayedThrough(.failure(ServeError.stopped))
    }

    /// Completes `playedThroughPromise` the first time only.
    private func completePlayedThrough(_ result: Result<Void, any Error>) {
        let first = state.withLockedValue { s -> Bool in
            defer { s.promiseCompleted = true }
            return !s.promiseCompleted
        }
        if first { playedThroughPromise.completeWith(result) }
    }

    /// The bootstrap listener's port (the real one when configured with port 0).
    public var bootstrapPort: Int { state.withLockedValue { $0.bootstrapPort } }

    /// `HOST:PORT` for a client's bootstrap servers.
    public var bootstrapAddress: String { HostPort(host: configuration.effectiveAdvertiseHost, port: bootstrapPort).description }

    /// Recorded node id -> port of its listener.
    public var nodePorts: [Int32: Int] { state.withLockedValue { $0.nodePorts } }

    /// What happened so far.
    public var report: ServeReport {
        state.withLockedValue {
            var r = $0.report
            r.rounds = $0.matcher.rounds
            return r
        }
    }

    /// Completes once the recorded session has been played through (every recorded answer given
    /// once, no client connected) when not looping; never with `loop`.
    public var playedThrough: EventLoopFuture<Void> { playedThroughPromise.futureResult }

    /// Binds the bootstrap listener and one listener per recorded node.
    public func start() async throws {
        let listen = configuration.listen
        let bootstrap: any Channel
        do {
            bootstrap = try await makeListener(host: listen.host, port: listen.port, nodeId: -1).get()
        } catch {
            await stop()
            throw error
        }
        let port = bootstrap.localAddress?.port ?? listen.port
        state.withLockedValue {
            $0.bootstrapChannel = bootstrap
            $0.bootstrapPort = port
        }
        for node in script.nodeIds {
            let wanted = configuration.derivedNodePort(nodeId: node, bootstrapPort: port)
            let channel: any Channel
            do {
                channel = try await makeListener(host: listen.host, port: wanted, nodeId: node).get()
            } catch {
                await stop()
                throw ServeError.cannotListen(node: node, port: wanted, reason: "\(error)")
            }
            let bound = channel.localAddress?.port ?? wanted
            state.withLockedValue {
                $0.nodeChannels[node] = channel
                $0.nodePorts[node] = bound
            }
        }
        logger.debug("serving", metadata: ["address": "\(listen.host):\(port)", "nodes": "\(nodePorts)"])
    }

    /// Closes every listener and connection (and the event loops it made).
    public func stop() async {
        let channels: [any Channel] = state.withLockedValue {
            $0.stopping = true
            var all: [any Channel] = []
            if let b = $0.bootstrapChannel { all.append(b) }
            all += $0.nodeChannels.values
            all += $0.liveChannels.values
            return all
        }
        for c in channels { try? await c.close() }
        completePlayedThrough(.failure(ServeError.stopped))
        if ownsGroup { try? await group.shutdownGracefully() }
    }

    func makeListener(host: String, port: Int, nodeId: Int32) -> EventLoopFuture<any Channel> {
        let maxFrame = configuration.maxFrameBytes
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = self.connectionOpened(channel, node: nodeId)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrame)))
                    try channel.pipeline.syncOperations.addHandler(ServeHandler(server: self, connectionId: id))
                }
            }
            .bind(host: host, port: port)
    }

    func connectionOpened(_ channel: any Channel, node: Int32) -> UInt64 {
        state.withLockedValue {
            let id = $0.nextConnectionId
            $0.nextConnectionId += 1
            $0.liveChannels[id] = channel
            $0.report.connections += 1
            $0.matcher.connectionOpened(id, node: node)
            return id
        }
    }

    func connectionClosed(_ id: UInt64) {
        let done: Bool = state.withLockedValue {
            $0.liveChannels[id] = nil
            $0.matcher.connectionClosed(id)
            return checkPlayedThrough(&$0)
        }
        if done { completePlayedThrough(.success(())) }
    }

    /// With `loop`, starts over; without, reports completion once.
    func checkPlayedThrough(_ s: inout State) -> Bool {
        guard s.matcher.playedThrough, !s.finished else { return false }
        if configuration.loop {
            s.matcher.restart()
            return false
        }
        s.finished = true
        return true
    }

    // MARK: Answering

    /// What to do with one request.
    enum Reply {
        case respond(ByteBuffer, delayNs: Int64)
        case none
        case close
    }

    func reply(to payload: ByteBuffer, connectionId: UInt64) -> Reply {
        guard let prefix = KafkaRequestPrefix(payload: payload) else { return .close }
        let decoded = try? KafkaFrameCodec.decodeRequest(payload)
        let apiName = decoded?.api.name ?? "ApiKey\(prefix.apiKey)"
        let normalized = ComparableExchange.normalizedRequest(payload, api: apiName, normalizer: script.normalizer, decoded: decoded)
        let signature = ServeScript.signature(prefix.apiKey, prefix.apiVersion)
        let acksZero = prefix.apiKey == 0 && (decoded?.body as? ProduceRequest)?.acks == 0

        enum Decision {
            case hit(ServeScript.Entry, repeated: Bool)
            case miss(ServeScript.Entry?, ServeMiss)
        }
        let decision: Decision = state.withLockedValue { s in
            s.report.requests += 1
            let before = s.matcher.cursors
            if let m = s.matcher.match(connectionId, signature: signature, normalized: normalized) {
                s.report.answered += 1
                let repeated = before[m.connection] > m.entry
                if repeated { s.report.repeats += 1 }
                return .hit(script.connections[m.connection].entries[m.entry], repeated: repeated)
            }
            let near = s.matcher.nearest(connectionId, signature: signature, normalized: normalized)
            let entry = near.map { script.connections[$0.0.connection].entries[$0.0.entry] }
            let miss = ServeMiss(
                connection: connectionId, apiName: apiName, apiVersion: prefix.apiVersion, correlationId: prefix.correlationId,
                nearest: near.map { m in
                    (script.connections[m.0.connection].id, m.0.entry + 1, script.connections[m.0.connection].entries[m.0.entry].exchange.correlationId)
                },
                differences: near?.1 ?? [], action: configuration.onMiss)
            s.report.misses.append(miss)
            return .miss(entry, miss)
        }
        switch decision {
        case .hit(let entry, _):
            if acksZero { return .none }
            guard let response = entry.exchange.response else { return .none }
            return .respond(answer(response.payload, for: entry.exchange, correlationId: prefix.correlationId), delayNs: delay(entry))
        case .miss(let entry, let miss):
            logger.info("\(miss)")
            if acksZero { return .none }
            switch configuration.onMiss {
            case .close:
                return .close
            case .nearest:
                guard let entry, let response = entry.exchange.response else { return .close }
                return .respond(answer(response.payload, for: entry.exchange, correlationId: prefix.correlationId), delayNs: 0)
            case .error:
                guard let body = errorAnswer(entry: entry, apiKey: prefix.apiKey, apiVersion: prefix.apiVersion) else { return .close }
                return .respond(answer(body, apiKey: prefix.apiKey, apiVersion: prefix.apiVersion, correlationId: prefix.correlationId), delayNs: 0)
            }
        }
    }

    func delay(_ entry: ServeScript.Entry) -> Int64 {
        guard let latency = entry.exchange.latencyNs, latency > 0 else { return 0 }
        switch configuration.latency {
        case .none: return 0
        case .all: return min(latency, 30_000_000_000)
        case .fetch:
            return entry.exchange.apiKey == 1 || entry.exchange.apiKey == 78 ? min(latency, 30_000_000_000) : 0
        }
    }

    func answer(_ recorded: ByteBuffer, for exchange: Exchange, correlationId: Int32) -> ByteBuffer {
        answer(recorded, apiKey: exchange.apiKey, apiVersion: exchange.apiVersion, correlationId: correlationId)
    }

    /// The recorded answer with the live correlation id and broker addresses pointing here.
    func answer(_ recorded: ByteBuffer, apiKey: Int16, apiVersion: Int16, correlationId: Int32) -> ByteBuffer {
        var payload = recorded
        if AddressRewriter.mayCarryEndpoints(apiKey: apiKey, apiVersion: apiVersion),
            let decoded = try? KafkaFrameCodec.decodeResponse(recorded, apiKey: apiKey, apiVersion: apiVersion)
        {
            payload = AddressRewriter.rewrite(decoded, advertiseHost: configuration.effectiveAdvertiseHost, ports: nodePorts).0
        }
        payload.setInteger(correlationId, at: payload.readerIndex, endianness: .big)
        return payload
    }

    /// An answer that tells the client something went wrong: the nearest recorded answer (or an
    /// empty one) with every `ErrorCode` set to `missErrorCode`, through the generated
    /// `KafkaErrorCodeCarrier` visitor.
    func errorAnswer(entry: ServeScript.Entry?, apiKey: Int16, apiVersion: Int16) -> ByteBuffer? {
        guard let api = KafkaAPIs.descriptor(apiKey: apiKey), api.versions.contains(apiVersion) else { return nil }
        var header = ResponseHeader()
        var body: any KafkaMessage = api.response.init()
        if let entry, let r = entry.exchange.response,
            let decoded = try? KafkaFrameCodec.decodeResponse(r.payload, apiKey: apiKey, apiVersion: apiVersion)
        {
            header = decoded.header
            body = decoded.body
        }
        if var carrier = body as? any KafkaErrorCodeCarrier {
            let code = configuration.missErrorCode
            carrier.rewriteErrorCodes(version: apiVersion) { $0 = code }
            body = (carrier as? any KafkaMessage) ?? body
        }
        return KafkaFrameCodec.encodeResponse(header: header, body: body, apiKey: apiKey, apiVersion: apiVersion)
    }
}
