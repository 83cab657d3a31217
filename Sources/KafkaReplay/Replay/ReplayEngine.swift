import KafkaCapture
import KafkaProtocol
import KafkaProxy
import Logging
import NIOCore
import NIOPosix

/// The replay state machine and its I/O. Everything runs on one event loop (every connection is
/// created on it), which is why the class can be `@unchecked Sendable`: it is only touched there.
final class ReplayEngine: @unchecked Sendable {
    /// Confined to the engine's loop, like the engine.
    final class Connection: @unchecked Sendable {
        let index: Int
        let recorded: RecordedConnection
        let steps: [ReplayPlan.Step]
        var channel: (any Channel)?
        var connecting = false
        var nextStep = 0
        /// Steps sent and waiting for an answer, oldest first.
        var outstanding = CircularBuffer<Int>()
        var responded: [Bool]
        var closedByUs = false
        var finished = false
        var address: HostPort?

        init(index: Int, recorded: RecordedConnection, steps: [ReplayPlan.Step]) {
            self.index = index
            self.recorded = recorded
            self.steps = steps
            responded = Array(repeating: false, count: steps.count)
        }

        var requiredOutstanding: Int { outstanding.filter { steps[$0].responseRequired }.count }
        var allSent: Bool { nextStep >= steps.count }
    }

    let plan: ReplayPlan
    let configuration: ReplayConfiguration
    let output: (any ProxyCaptureSink)?
    let clock: any CaptureClock
    let loop: any EventLoop
    let logger: Logger
    let progress: (@Sendable (ReplayProgress) -> Void)?

    var connections: [Connection] = []
    var bindings = BindingTable()
    var endpoints: [Int32: HostPort] = [:]
    var recordedTopicNames: [KafkaUUID: String] = [:]
    var replayTopicNames: [KafkaUUID: String] = [:]
    /// Topics the session's requests use (a target without one of them cannot replay it).
    let sessionTopics: Set<String>
    var failure: ReplayFailure?
    var warnings: [String] = []
    var substitutions: [String: Int] = [:]
    var learned: [String: Int] = [:]
    var sent = 0
    var received = 0
    var opened = 0
    var startNs: UInt64 = 0
    var timer: Scheduled<Void>?
    /// Response deadlines of outstanding requests, by (connection, step).
    var deadlines: [Int: Scheduled<Void>] = [:]
    var timerDeadline: NIODeadline?
    var finishing = false
    var promise: EventLoopPromise<ReplayReport>?

    init(
        plan: ReplayPlan, configuration: ReplayConfiguration, output: (any ProxyCaptureSink)?, clock: any CaptureClock,
        loop: any EventLoop, logger: Logger, progress: (@Sendable (ReplayProgress) -> Void)?
    ) {
        self.plan = plan
        self.configuration = configuration
        self.output = output
        self.clock = clock
        self.loop = loop
        self.logger = logger
        self.progress = progress
        connections = plan.connections.enumerated().map { i, c in Connection(index: i, recorded: c, steps: plan.steps[i]) }
        var session = RecordedSession(records: [])
        session.connections = plan.connections
        sessionTopics = TopicErrorCheck.sessionTopics(session)
    }

    func start() -> EventLoopFuture<ReplayReport> {
        loop.preconditionInEventLoop()
        let p = loop.makePromise(of: ReplayReport.self)
        promise = p
        startNs = clock.now().monotonicNs
        pump()
        return p.futureResult
    }

    // MARK: Scheduling

    func dependenciesMet(_ step: ReplayPlan.Step) -> Bool {
        for d in step.dependencies where !connections[d.connection].responded[d.step] { return false }
        return true
    }

    /// Sends everything the order and the pace allow; opens connections as their first request
    /// becomes due; finishes when every connection is done.
    func pump() {
        guard failure == nil, !finishing else { return }
        var earliest: UInt64?
        let now = clock.now().monotonicNs
        for c in connections where !c.finished {
            if c.steps.isEmpty && c.channel == nil && !c.connecting {
                // A connection without requests: opened once its place in the order comes, then closed.
                let open = plan.opens[c.index]
                guard open.dependencies.allSatisfy({ connections[$0.connection].responded[$0.step] }) else { continue }
                if let factor = configuration.pace.factor {
                    let scaled = Double(open.offsetNs) / factor
                    let due = startNs &+ (scaled < 1.8e19 ? UInt64(scaled) : UInt64.max / 2)
                    if due > now {
                        earliest = min(earliest ?? due, due)
                        continue
                    }
                }
                connect(c)
                guard failure == nil else { return }
                continue
            }
            sending: while !c.allSent {
                let step = c.steps[c.nextStep]
                guard dependenciesMet(step) else { break }
                if let factor = configuration.pace.factor {
                    let scaled = Double(step.offsetNs) / factor
                    let due = startNs &+ (scaled < 1.8e19 ? UInt64(scaled) : UInt64.max / 2)
                    if due > now {
                        earliest = min(earliest ?? due, due)
                        break
                    }
                }
                guard let channel = c.channel else {
                    if !c.connecting { connect(c) }
                    guard failure == nil else { return }
                    break sending
                }
                send(step, on: c, channel: channel)
                guard failure == nil else { return }
            }
            finishIfDone(c)
        }
        if connections.allSatisfy(\.finished) {
            finish()
            return
        }
        if let earliest { schedulePump(atMonotonic: earliest, now: now) }
    }

    func schedulePump(atMonotonic due: UInt64, now: UInt64) {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(clamping: due &- now))
        if let d = timerDeadline, d <= deadline { return }
        timer?.cancel()
        timerDeadline = deadline
        timer = loop.scheduleTask(deadline: deadline) { [self] in
            timerDeadline = nil
            timer = nil
            pump()
        }
    }

    /// A connection is done when every request went out and every answer the recording had came
    /// back. The recorded client closed it then (or the capture ended): close it the same way.
    func finishIfDone(_ c: Connection) {
        guard c.allSent, c.requiredOutstanding == 0, !c.finished else { return }
        // A connection without requests is done once it has been opened.
        if c.steps.isEmpty && c.channel == nil { return }
        c.finished = true
        if let channel = c.channel, c.recorded.closed != nil {
            c.closedByUs = true
            channel.close(promise: nil)
        }
    }

    // MARK: Connections

    func route(_ c: Connection) -> HostPort? {
        guard c.recorded.nodeId >= 0 else { return configuration.target }
        let node = Int32(
            truncatingIfNeeded: bindings.mapped(.node, .int(Int64(c.recorded.nodeId)))?.intValue ?? Int64(c.recorded.nodeId))
        if let forced = configuration.targetNodes.address(forNode: node) { return forced }
        if let e = endpoints[node] { return e }
        let distinct = Set(endpoints.values)
        if distinct.count == 1, let only = distinct.first { return only }
        if endpoints.isEmpty { return configuration.target }
        fail(.unknownNode(nodeId: node, known: endpoints.keys.sorted()))
        return nil
    }

    func connect(_ c: Connection) {
        guard let address = route(c) else { return }
        c.connecting = true
        c.address = address
        let maxFrame = configuration.maxFrameBytes
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMs))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrame)))
                    try channel.pipeline.syncOperations.addHandler(ReplayChannelHandler(engine: self, index: c.index))
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { [self] result in
                c.connecting = false
                switch result {
                case .success(let channel):
                    if failure != nil || finishing {
                        channel.close(promise: nil)
                        return
                    }
                    c.channel = channel
                    // The close future, not channelInactive: it completes however the channel closes
                    // (even closed by us before it became active), and before `finish` sees it closed.
                    channel.closeFuture.whenComplete { [self] _ in channelClosed(c.index, channel: channel) }
                    opened += 1
                    record(
                        .connectionOpened(
                            ConnectionOpenedRecord(
                                time: clock.now(), connectionId: c.recorded.id,
                                clientAddress: channel.localAddress.map(Self.describe) ?? "?", listenerAddress: "replay",
                                upstreamAddress: address.description, nodeId: c.recorded.nodeId, role: "replay")))
                    pump()
                case .failure(let error):
                    recordEvent(
                        kind: .upstreamUnreachable, connection: c.recorded.id, message: "cannot connect to \(address): \(error)")
                    fail(.targetUnreachable(address: address.description, connection: c.recorded.id, reason: "\(error)"))
                }
            }
    }

    static func describe(_ a: SocketAddress) -> String {
        if let ip = a.ipAddress, let port = a.port { return HostPort(host: ip, port: port).description }
        return "\(a)"
    }

    // MARK: Requests

    func send(_ step: ReplayPlan.Step, on c: Connection, channel: any Channel) {
        let e = step.exchange
        let result: RequestRewriter.Result
        do {
            result = try RequestRewriter.rewrite(e.request.payload, bindings: bindings)
        } catch {
            fail(
                .substitutionFailed(
                    connection: c.recorded.id, correlationId: e.correlationId, api: e.apiName ?? "ApiKey\(e.apiKey)",
                    detail: error.description))
            return
        }
        if !result.edits.isEmpty {
            for edit in result.edits { substitutions[edit.kind, default: 0] += 1 }
            recordEvent(
                kind: .rewrite, connection: c.recorded.id,
                message: "replay substituted \(result.edits.count) live value(s) in \(e.apiName ?? "request") \(e.correlationId)",
                attributes: result.edits.map {
                    EventRecord.Attribute($0.path.description, "\(KafkaJSON.render($0.old)) -> \(KafkaJSON.render($0.new))")
                })
        }
        var frame = channel.allocator.buffer(capacity: result.payload.readableBytes + 4)
        frame.writeInteger(Int32(truncatingIfNeeded: result.payload.readableBytes), endianness: .big)
        frame.writeImmutableBuffer(result.payload)
        channel.writeAndFlush(frame, promise: nil)
        record(.frame(FrameRecord(time: clock.now(), connectionId: c.recorded.id, direction: .request, payload: result.payload)))
        let index = c.nextStep
        c.nextStep += 1
        sent += 1
        if step.expectsResponse { c.outstanding.append(index) }
        if step.responseRequired {
            let timeout = configuration.responseTimeoutMs
            let key = deadlineKey(c.index, index)
            deadlines[key] = loop.scheduleTask(in: .milliseconds(timeout)) { [self] in
                deadlines[key] = nil
                guard failure == nil, !finishing, !c.responded[index] else { return }
                fail(
                    .noResponse(
                        connection: c.recorded.id, correlationId: e.correlationId, api: e.apiName ?? "ApiKey\(e.apiKey)",
                        waitedMs: timeout))
            }
        }
    }

    func deadlineKey(_ connection: Int, _ step: Int) -> Int { connection << 32 | step }

    // MARK: Responses

    func responseArrived(_ index: Int, payload: ByteBuffer, channel: any Channel) {
        let c = connections[index]
        guard c.channel === channel else { return }
        record(.frame(FrameRecord(time: clock.now(), connectionId: c.recorded.id, direction: .response, payload: payload)))
        guard let correlationId = KafkaFrameCodec.responseCorrelationId(payload),
            let position = c.outstanding.firstIndex(where: { c.steps[$0].exchange.correlationId == correlationId })
        else {
            warnings.append("connection \(c.recorded.id): a response matches no outstanding request")
            return
        }
        let stepIndex = c.outstanding.remove(at: position)
        c.responded[stepIndex] = true
        deadlines.removeValue(forKey: deadlineKey(index, stepIndex))?.cancel()
        received += 1
        compareAndLearn(c.steps[stepIndex].exchange, replayed: payload, connection: c)
        progress?(
            ReplayProgress(
                sent: sent, received: received, total: plan.requestCount, openConnections: connections.filter { $0.channel != nil }.count))
        pump()
    }

    /// Learns bound values and broker endpoints from a replayed answer, and stops at a topic the
    /// target does not have.
    func compareAndLearn(_ e: Exchange, replayed: ByteBuffer, connection c: Connection) {
        guard let decoded = try? KafkaFrameCodec.decodeResponse(replayed, apiKey: e.apiKey, apiVersion: e.apiVersion) else {
            return
        }
        let replayTree = decoded.body.kafkaValue(version: decoded.apiVersion)
        MessageNormalizer.collectTopicNames(replayTree, into: &replayTopicNames)
        if AddressRewriter.mayCarryEndpoints(apiKey: e.apiKey, apiVersion: e.apiVersion) {
            for endpoint in AddressRewriter.endpoints(in: decoded) {
                endpoints[endpoint.nodeId] = HostPort(host: endpoint.host, port: Int(endpoint.port))
            }
        }
        guard let recordedFrame = e.response,
            let recorded = try? KafkaFrameCodec.decodeResponse(recordedFrame.payload, apiKey: e.apiKey, apiVersion: e.apiVersion)
        else { return }
        let recordedTree = recorded.body.kafkaValue(version: recorded.apiVersion)
        MessageNormalizer.collectTopicNames(recordedTree, into: &recordedTopicNames)
        for l in bindings.learn(recorded: recordedTree, replayed: replayTree) where l.recorded != l.replayed {
            learned[l.kind, default: 0] += 1
        }
        if let (topic, error) = TopicErrorCheck.missingTopic(
            recorded: recordedTree, replayed: replayTree, topicNames: recordedTopicNames.merging(replayTopicNames) { a, _ in a })
        {
            fail(.missingTopic(topic: topic, api: e.apiName ?? "ApiKey\(e.apiKey)", connection: c.recorded.id, error: error))
        } else if e.apiKey == 3,
            let topic = TopicErrorCheck.missingFromMetadata(recorded: recordedTree, replayed: replayTree, used: sessionTopics)
        {
            fail(.missingTopic(topic: topic, api: "Metadata", connection: c.recorded.id, error: "no such topic"))
        }
    }

    func channelClosed(_ index: Int, channel: any Channel) {
        let c = connections[index]
        guard c.channel === channel else { return }
        c.channel = nil
        record(
            .connectionClosed(
                ConnectionClosedRecord(
                    time: clock.now(), connectionId: c.recorded.id, closedBy: c.closedByUs ? .client : .broker,
                    reason: c.closedByUs ? "replay closed the connection" : "the target closed the connection")))
        guard !c.closedByUs, failure == nil, !finishing else { return }
        let pending = c.requiredOutstanding
        if pending > 0 {
            fail(.connectionLost(connection: c.recorded.id, outstanding: pending))
            return
        }
        c.outstanding.removeAll()
        pump()
    }

    // MARK: End

    func fail(_ f: ReplayFailure) {
        guard failure == nil else { return }
        failure = f
        logger.debug("replay failed", metadata: ["reason": "\(f)"])
        recordEvent(kind: "replay-failed", connection: nil, message: f.description)
        finish()
    }

    func finish() {
        guard !finishing else { return }
        finishing = true
        timer?.cancel()
        for d in deadlines.values { d.cancel() }
        deadlines.removeAll()
        let open = connections.compactMap { c -> (any Channel)? in
            guard let ch = c.channel else { return nil }
            c.closedByUs = true
            return ch
        }
        // The close future completes after channelInactive, so every connection's closed record
        // (written from there) is in the output before the report is.
        let closes = open.map { ch -> EventLoopFuture<Void> in
            ch.close(promise: nil)
            return ch.closeFuture.hop(to: loop)
        }
        EventLoopFuture.andAllComplete(closes, on: loop).whenComplete { [self] _ in
            let report = ReplayReport(
                totalRequests: plan.requestCount, requestsSent: sent, responsesReceived: received, connectionsOpened: opened,
                substitutions: substitutions, learned: learned, elapsedNs: clock.now().monotonicNs &- startNs,
                failure: failure, warnings: warnings)
            promise?.succeed(report)
            promise = nil
        }
    }

    // MARK: Output

    func record(_ r: CaptureRecord) {
        _ = output?.submit(r)
    }

    func recordEvent(kind: EventRecord.Kind, connection: UInt64?, message: String, attributes: [EventRecord.Attribute] = []) {
        record(.event(EventRecord(time: clock.now(), connectionId: connection, kind: kind, message: message, attributes: attributes)))
    }
}
