import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// The thin NIO driver of a replay: performs what `ReplayScheduler` decides (connect, send, close,
/// wake up, finish) and feeds it what happened (connected, a response, a close, a deadline, the
/// output capture's backpressure). Everything runs on one event loop (every connection is created on
/// it), which is why the class can be `@unchecked Sendable`: it is only touched there.
final class ReplayEngine: @unchecked Sendable {
    var scheduler: ReplayScheduler
    let output: (any ProxyCaptureSink)?
    let clock: any CaptureClock
    let loop: any EventLoop
    let logger: Logger
    let progress: (@Sendable (ReplayProgress) -> Void)?

    var channels: [Int: any Channel] = [:]
    var timer: Scheduled<Void>?
    var timerDeadline: UInt64?
    /// Response deadlines of outstanding requests, by (connection, step).
    var deadlines: [Int: Scheduled<Void>] = [:]
    var promise: EventLoopPromise<ReplayReport>?
    var finished = false

    init(
        plan: ReplayPlan, configuration: ReplayConfiguration, output: (any ProxyCaptureSink)?, clock: any CaptureClock,
        loop: any EventLoop, logger: Logger, progress: (@Sendable (ReplayProgress) -> Void)?
    ) {
        scheduler = ReplayScheduler(plan: plan, configuration: configuration)
        self.output = output
        self.clock = clock
        self.loop = loop
        self.logger = logger
        self.progress = progress
    }

    var configuration: ReplayConfiguration { scheduler.configuration }
    var nowNs: UInt64 { clock.now().monotonicNs }

    func start() -> EventLoopFuture<ReplayReport> {
        loop.preconditionInEventLoop()
        let p = loop.makePromise(of: ReplayReport.self)
        promise = p
        // The output capture's backpressure pauses sending; its writability handler resumes it.
        output?.setWritabilityHandler { [self] in
            loop.execute { [self] in
                guard !finished, scheduler.outputBlocked, output?.isWritable ?? true else { return }
                perform(scheduler.outputBackpressure(false, nowNs: nowNs))
            }
        }
        perform(scheduler.start(nowNs: nowNs))
        return p.futureResult
    }

    // MARK: Actions

    func perform(_ actions: [ReplayScheduler.Action]) {
        for action in actions {
            switch action {
            case .connect(let index, let address):
                connect(index, to: address)
            case .send(let index, let step, let payload, let awaitResponse):
                send(payload, on: index, step: step, awaitResponse: awaitResponse)
            case .cancelDeadline(let index, let step):
                deadlines.removeValue(forKey: Self.deadlineKey(index, step))?.cancel()
            case .close(let index):
                channels[index]?.close(promise: nil)
            case .wake(let at):
                scheduleWake(at: at)
            case .event(let kind, let connection, let message, let attributes):
                record(.event(EventRecord(time: clock.now(), connectionId: connection, kind: kind, message: message, attributes: attributes)))
            case .finish:
                finish()
            }
        }
    }

    func connect(_ index: Int, to address: HostPort) {
        let maxFrame = configuration.maxFrameBytes
        let recorded = scheduler.connections[index].recorded
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(configuration.connectTimeoutMs))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: maxFrame)))
                    try channel.pipeline.syncOperations.addHandler(ReplayChannelHandler(engine: self, index: index))
                }
            }
            .connect(host: address.host, port: address.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    if finished {
                        channel.close(promise: nil)
                        return
                    }
                    channels[index] = channel
                    // The close future, not channelInactive: it completes however the channel closes
                    // (even closed by us before it became active), and before `finish` sees it closed.
                    channel.closeFuture.whenComplete { [self] _ in channelClosed(index, channel: channel) }
                    record(
                        .connectionOpened(
                            ConnectionOpenedRecord(
                                time: clock.now(), connectionId: recorded.id,
                                clientAddress: channel.localAddress.map(Self.describe) ?? "?", listenerAddress: "replay",
                                upstreamAddress: address.description, nodeId: recorded.nodeId, role: "replay")))
                    perform(scheduler.connected(index, nowNs: nowNs))
                case .failure(let error):
                    perform(scheduler.connectFailed(index, address: address, reason: "\(error)"))
                }
            }
    }

    static func describe(_ a: SocketAddress) -> String {
        if let ip = a.ipAddress, let port = a.port { return HostPort(host: ip, port: port).description }
        return "\(a)"
    }

    func send(_ payload: ByteBuffer, on index: Int, step: Int, awaitResponse: Bool) {
        guard let channel = channels[index] else { return }
        var frame = channel.allocator.buffer(capacity: payload.readableBytes + 4)
        frame.writeInteger(Int32(truncatingIfNeeded: payload.readableBytes), endianness: .big)
        frame.writeImmutableBuffer(payload)
        channel.writeAndFlush(frame, promise: nil)
        record(.frame(FrameRecord(time: clock.now(), connectionId: scheduler.connections[index].recorded.id, direction: .request, payload: payload)))
        if awaitResponse {
            let key = Self.deadlineKey(index, step)
            deadlines[key] = loop.scheduleTask(in: .milliseconds(configuration.responseTimeoutMs)) { [self] in
                deadlines[key] = nil
                perform(scheduler.deadlinePassed(index, step: step))
            }
        }
    }

    static func deadlineKey(_ connection: Int, _ step: Int) -> Int { connection << 32 | step }

    func scheduleWake(at due: UInt64) {
        if let d = timerDeadline, d <= due { return }
        timer?.cancel()
        timerDeadline = due
        let now = nowNs
        timer = loop.scheduleTask(in: .nanoseconds(Int64(clamping: due > now ? due - now : 0))) { [self] in
            timerDeadline = nil
            timer = nil
            perform(scheduler.wake(nowNs: nowNs))
        }
    }

    // MARK: Inputs from the channels

    func responseArrived(_ index: Int, payload: ByteBuffer, channel: any Channel) {
        guard channels[index] === channel else { return }
        record(.frame(FrameRecord(time: clock.now(), connectionId: scheduler.connections[index].recorded.id, direction: .response, payload: payload)))
        perform(
            scheduler.responseArrived(
                index, correlationId: KafkaFrameCodec.responseCorrelationId(payload), payload: payload, nowNs: nowNs))
        progress?(scheduler.progress)
    }

    func channelClosed(_ index: Int, channel: any Channel) {
        guard channels[index] === channel else { return }
        channels[index] = nil
        let byUs = scheduler.closedByUs(index)
        record(
            .connectionClosed(
                ConnectionClosedRecord(
                    time: clock.now(), connectionId: scheduler.connections[index].recorded.id, closedBy: byUs ? .client : .broker,
                    reason: byUs ? "replay closed the connection" : "the target closed the connection")))
        perform(scheduler.closed(index, nowNs: nowNs))
    }

    // MARK: End

    func finish() {
        guard !finished else { return }
        finished = true
        if let f = scheduler.failure { logger.debug("replay failed", metadata: ["reason": "\(f)"]) }
        timer?.cancel()
        for d in deadlines.values { d.cancel() }
        deadlines.removeAll()
        scheduler.closingAll()
        // The close future completes after the close-future callback registered at connect (which
        // writes the closed record), so every connection's record is in the output before the report.
        let closes = channels.values.map { ch -> EventLoopFuture<Void> in
            ch.close(promise: nil)
            return ch.closeFuture.hop(to: loop)
        }
        EventLoopFuture.andAllComplete(closes, on: loop).whenComplete { [self] _ in
            promise?.succeed(scheduler.report(elapsedNs: nowNs &- scheduler.elapsedStart))
            promise = nil
        }
    }

    // MARK: Output

    func record(_ r: CaptureRecord) {
        guard let output else { return }
        if !output.submit(r), !scheduler.outputBlocked, !finished {
            perform(scheduler.outputBackpressure(true, nowNs: nowNs))
        }
    }
}
