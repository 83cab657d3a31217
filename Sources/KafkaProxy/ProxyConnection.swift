import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix

/// One client connection and its upstream connection, glued together.
///
/// Everything here runs on the client channel's event loop (the upstream channel is created on the
/// same loop), which is why the class can be `@unchecked Sendable`: it is only ever touched there.
/// Reading from a side is allowed only while the other side is writable and the capture keeps up,
/// so a slow peer or a slow disk slows the whole path instead of buffering without bound.
///
/// What state the connection is in (connecting, forwarding, in the legacy SASL token exchange,
/// closed) and when it times out is decided by `ProxyConnectionStateMachine`; this class does the I/O
/// its actions ask for. The handlers on both channels let go of it in `handlerRemoved`, and the
/// server's table drops it when the client channel closes: nothing of a closed connection stays.
final class ProxyConnection: @unchecked Sendable {
    typealias Side = ProxyConnectionStateMachine.Side

    let id: UInt64
    let server: KafkaProxyServer
    let eventLoop: any EventLoop
    let clientChannel: any Channel
    let nodeId: Int32?
    var upstreamChannel: (any Channel)?
    var clientHandler: ProxySideHandler?
    var upstreamHandler: ProxySideHandler?
    var machine: ProxyConnectionStateMachine
    var tracker = CorrelationTracker()
    /// Frames counted since they were last added to the server's statistics (on read-complete and
    /// close): no lock per frame.
    var statistics = ProxyStatistics.Tally()
    /// The one timer (frame completion and idle deadlines), re-armed as the state machine says.
    var timer: Scheduled<Void>?
    /// Responses waiting while an earlier one is held (a new node listener is being bound, or a fault
    /// delays it): they go out in order once it is sent.
    var responseQueue = CircularBuffer<ByteBuffer>()
    var responsesBlocked = false
    let upstreamAddress: HostPort
    let faults: FaultInjector?
    var flight: FlightRecorder?
    /// reorder-responses: a response waiting to be sent after the next one.
    var heldForReorder: ResponseInFlight?

    /// The response filters, in order (see `ResponseFilter`); built once from the configuration.
    let responseFilters: [any ResponseFilter]
    /// The same, split by stage once, so a response does not ask every filter its stage three times.
    private let filtersBeforeDelivery: [any ResponseFilter]
    private let filtersAtDelivery: [any ResponseFilter]
    private let filtersAfterDelivery: [any ResponseFilter]

    var closeFuture: EventLoopFuture<Void> { clientChannel.closeFuture }

    /// True once the connection is closing or closed.
    var closing: Bool { machine.isClosed }

    init(id: UInt64, server: KafkaProxyServer, client: any Channel, nodeId: Int32?) {
        self.id = id
        self.server = server
        self.eventLoop = client.eventLoop
        self.clientChannel = client
        self.nodeId = nodeId
        self.upstreamAddress = server.upstreamAddress(nodeId: nodeId)
        let config = server.configuration
        machine = ProxyConnectionStateMachine(
            timeouts: .init(
                frameNs: config.frameTimeoutMs.map { UInt64(max(0, $0)) * 1_000_000 },
                idleNs: config.idleTimeoutMs.map { UInt64(max(0, $0)) * 1_000_000 }),
            now: NIODeadline.now().uptimeNanoseconds)
        flight = config.ringBytes.map { FlightRecorder(ringBytes: $0) }
        let faults = config.faults.isEmpty
            ? nil : FaultInjector(faults: config.faults, shared: server.faultState, seed: config.seed, connectionId: id)
        self.faults = faults
        var filters: [any ResponseFilter] = []
        if !config.keepCredentials { filters.append(RedactionFilter()) }
        if let faults { filters.append(FaultFilter(faults: faults)) }
        if faults?.rewritesAddresses ?? true { filters.append(RewriteFilter()) }
        filters.append(CaptureFilter())
        if config.ringBytes != nil { filters.append(TriggerFilter()) }
        responseFilters = filters
        filtersBeforeDelivery = filters.filter { $0.stage == .beforeDelivery }
        filtersAtDelivery = filters.filter { $0.stage == .atDelivery }
        filtersAfterDelivery = filters.filter { $0.stage == .afterDelivery }
        server.connectionObjectCreated()
        client.closeFuture.whenComplete { [server, id] _ in
            server.statistics.connectionClosed()
            server.connectionFinished(id)
        }
    }

    deinit {
        server.connectionObjectReleased()
    }

    // MARK: Capture

    /// Every record of this connection goes through here: straight to the capture, or into the
    /// flight recorder's ring.
    func record(_ r: CaptureRecord) {
        guard flight != nil else {
            server.record(r)
            return
        }
        for out in flight?.add(r) ?? [] { server.record(out) }
    }

    func recordEvent(
        kind: EventRecord.Kind, connectionId: UInt64?, message: String, attributes: [EventRecord.Attribute] = [],
        payload: ByteBuffer? = nil
    ) {
        record(.event(EventRecord(time: server.now(), connectionId: connectionId, kind: kind, message: message, attributes: attributes, payload: payload)))
    }

    /// A flight-recorder trigger fired: the ring goes to the capture, then everything after it.
    func fireTrigger(_ trigger: FlightTrigger, _ why: String) {
        guard var f = flight, !f.triggered else { return }
        let event = EventRecord(
            time: server.now(), connectionId: id, kind: "trigger", message: "flight recorder: \(trigger) fired: \(why)",
            attributes: [.init("trigger", trigger.description)])
        let out = f.fire(event)
        flight = f
        server.statistics.trigger()
        for r in out { server.record(r) }
    }

    /// Evaluates the response triggers for one response.
    func evaluateTriggers(_ frame: ByteBuffer, pending: CorrelationTracker.Pending?, match: CorrelationTracker.ResponseMatch, at time: CaptureTimestamp) {
        guard let f = flight, !f.triggered else { return }
        for trigger in server.configuration.triggers {
            switch trigger {
            case .latency(let ms):
                if let p = pending, time.monotonicNs > p.sentMonotonicNs, Int((time.monotonicNs - p.sentMonotonicNs) / 1_000_000) > ms {
                    fireTrigger(trigger, "response \(p.correlationId) took \((time.monotonicNs - p.sentMonotonicNs) / 1_000_000) ms")
                    return
                }
            case .errorCode(let wanted):
                guard let p = pending, let decoded = try? KafkaFrameCodec.decodeResponse(frame, apiKey: p.apiKey, apiVersion: p.apiVersion),
                    var carrier = decoded.body as? any KafkaErrorCodeCarrier
                else { continue }
                var hit: Int16?
                carrier.rewriteErrorCodes(version: p.apiVersion) { c in
                    if hit == nil, c != 0, wanted == nil || wanted == c { hit = c }
                }
                if let hit {
                    fireTrigger(trigger, "\(decoded.api.name) response \(p.correlationId) carried \(KafkaErrorCode.name(hit))")
                    return
                }
            case .check("I13"):
                switch match {
                case .inOrder: break
                case .outOfOrder(let p, let expected):
                    fireTrigger(trigger, "response \(p.correlationId) arrived while \(expected) was outstanding")
                    return
                case .unknown:
                    fireTrigger(trigger, "a response matched no outstanding request")
                    return
                }
            case .check("I14"):
                if let p = pending, (try? KafkaFrameCodec.decodeResponse(frame, apiKey: p.apiKey, apiVersion: p.apiVersion)) == nil,
                    KafkaAPIs.descriptor(apiKey: p.apiKey)?.versions.contains(p.apiVersion) == true
                {
                    fireTrigger(trigger, "response \(p.correlationId) does not decode as \(p.apiKey) v\(p.apiVersion)")
                    return
                }
            case .disconnect, .check:
                break
            }
        }
    }

    // MARK: Lifecycle

    func clientActive() {
        guard case .connectUpstream = machine.clientActive() else { return }
        let listener = clientChannel.localAddress.map(Self.describe) ?? "?"
        record(
            .connectionOpened(
                ConnectionOpenedRecord(
                    time: server.now(), connectionId: id,
                    clientAddress: clientChannel.remoteAddress.map(Self.describe) ?? "?",
                    listenerAddress: listener, upstreamAddress: upstreamAddress.description,
                    nodeId: nodeId ?? ConnectionOpenedRecord.bootstrapNodeId)))
        let maxFrame = server.configuration.maxFrameBytes
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.milliseconds(server.configuration.connectTimeoutMs))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls = try server.configuration.tls.clientHandler(host: upstreamAddress.host) {
                        try channel.pipeline.syncOperations.addHandler(tls)
                    }
                    try channel.pipeline.syncOperations.addHandler(UpstreamFramer(connection: self, maxFrameBytes: maxFrame))
                    try channel.pipeline.syncOperations.addHandler(ProxySideHandler(connection: self, side: .upstream))
                }
            }
            .connect(host: upstreamAddress.host, port: upstreamAddress.port)
            .whenComplete { [self] result in
                switch result {
                case .success(let channel):
                    switch machine.upstreamConnected(at: NIODeadline.now().uptimeNanoseconds) {
                    case .startForwarding(let at):
                        upstreamChannel = channel
                        if let at { schedule(at) }
                        resumeReadingNow()
                    case .closeLateUpstream, .none, .connectUpstream, .close:
                        channel.close(promise: nil)
                    }
                case .failure(let error):
                    server.statistics.upstreamFailure()
                    recordEvent(
                        kind: .upstreamUnreachable, connectionId: id,
                        message: "cannot connect to upstream \(upstreamAddress): \(error)")
                    server.logger.warning("upstream unreachable", metadata: ["upstream": "\(upstreamAddress)", "error": "\(error)"])
                    perform(machine.upstreamConnectFailed("upstream \(upstreamAddress) unreachable"))
                }
            }
    }

    func sideClosed(_ side: Side) {
        perform(machine.sideClosed(side))
    }

    func closeFromProxy(reason: String) {
        eventLoop.execute { self.close(by: .proxy, reason: reason) }
    }

    func close(by closer: ConnectionCloser, reason: String, event: EventRecord.Kind? = nil) {
        perform(machine.close(.init(by: closer, reason: reason, event: event)))
    }

    private func perform(_ action: ProxyConnectionStateMachine.LifecycleAction) {
        switch action {
        case .none, .connectUpstream, .startForwarding, .closeLateUpstream:
            break
        case .close(let closing):
            performClose(closing)
        }
    }

    private func performClose(_ closing: ProxyConnectionStateMachine.Closing) {
        server.statistics.add(&statistics)
        timer?.cancel()
        timer = nil
        if let kind = closing.event {
            recordEvent(kind: kind, connectionId: id, message: closing.reason)
        }
        if closing.by != .client, server.configuration.triggers.contains(.disconnect) {
            fireTrigger(.disconnect, "closed by \(closing.by): \(closing.reason)")
        }
        var why = closing.reason
        if tracker.outstandingCount > 0 { why += "; \(tracker.outstandingCount) request(s) unanswered" }
        record(
            .connectionClosed(ConnectionClosedRecord(time: server.now(), connectionId: id, closedBy: closing.by, reason: why)))
        // Deliver what was already forwarded, then close both sides.
        if let upstreamChannel {
            upstreamChannel.flush()
            upstreamChannel.close(promise: nil)
        }
        clientChannel.flush()
        clientChannel.close(promise: nil)
    }

    /// A handler leaves its pipeline (its channel closed): drop every reference to it and its channel.
    func handlerRemoved(_ side: Side) {
        // Frames read after the close began.
        server.statistics.add(&statistics)
        switch side {
        case .client:
            clientHandler = nil
        case .upstream:
            upstreamHandler = nil
            upstreamChannel = nil
        }
    }

    func failed(_ side: Side, _ error: any Error) {
        if let framing = error as? KafkaFramingError {
            server.statistics.malformed()
            let who = side == .client ? "client" : "broker"
            recordEvent(
                kind: .malformedFrame, connectionId: id, message: "\(who) sent \(framing.description); disconnecting",
                attributes: [.init("side", who), .init("declaredSize", String(framing.declaredSize))])
            server.logger.warning("malformed frame", metadata: ["connection": "\(id)", "side": "\(who)", "error": "\(framing)"])
            close(by: .proxy, reason: "\(who) sent \(framing.description)")
            return
        }
        close(by: side == .client ? .client : .broker, reason: "\(side == .client ? "client" : "broker") error: \(error)")
    }

    // MARK: Budget and deadlines

    /// A framer wants to hold an incomplete frame of `bytes`; when the proxy-wide budget cannot take
    /// it, the frame is refused: an event says why, and the connection closes.
    func reserveBuffered(_ bytes: Int, side: Side) -> Bool {
        guard !closing else { return false }
        if server.budget.reserve(bytes) { return true }
        let who = side == .client ? "client" : "broker"
        let budget = server.budget
        recordEvent(
            kind: "frame-refused", connectionId: id,
            message: "\(who) announced a frame of \(bytes - 4) bytes; only \(max(0, budget.limit - budget.reserved)) of the \(budget.limit) bytes of --max-buffered-bytes are left",
            attributes: [
                .init("side", who), .init("declaredSize", String(bytes - 4)), .init("bufferedBytes", String(budget.reserved)),
                .init("maxBufferedBytes", String(budget.limit)),
            ])
        server.logger.warning("frame refused: buffer budget", metadata: ["connection": "\(id)", "side": "\(who)", "size": "\(bytes - 4)"])
        close(by: .proxy, reason: "\(who) frame of \(bytes - 4) bytes exceeds the remaining --max-buffered-bytes")
        return false
    }

    func releaseBuffered(_ bytes: Int) {
        server.budget.release(bytes)
    }

    /// A framer read bytes from `side`; `partialFrame` when an incomplete frame is left buffered.
    func bytesRead(from side: Side, partialFrame: Bool) {
        apply(machine.bytesRead(from: side, at: NIODeadline.now().uptimeNanoseconds, partialFrame: partialFrame))
    }

    private func apply(_ action: ProxyConnectionStateMachine.TimerAction) {
        switch action {
        case .none: break
        case .schedule(let at): schedule(at)
        case .close(let closing): performClose(closing)
        }
    }

    private func schedule(_ atNs: UInt64) {
        timer?.cancel()
        timer = eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(atNs)) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        let paused: (Side) -> Bool = { [clientHandler, upstreamHandler] side in
            switch side {
            case .client: return clientHandler?.pendingRead ?? false
            case .upstream: return upstreamHandler?.pendingRead ?? false
            }
        }
        apply(machine.timerFired(at: NIODeadline.now().uptimeNanoseconds, readingPaused: paused))
    }

    // MARK: Backpressure

    func mayRead(_ side: Side) -> Bool {
        if closing || !server.captureWritable { return false }
        switch side {
        case .client:
            guard let upstreamChannel else { return false }
            return upstreamChannel.isWritable
        case .upstream:
            return clientChannel.isWritable && !responsesBlocked
        }
    }

    func resumeReading() {
        eventLoop.execute { self.resumeReadingNow() }
    }

    func resumeReadingNow() {
        clientHandler?.resumeIfAllowed()
        upstreamHandler?.resumeIfAllowed()
    }

    func writabilityChanged(_ side: Side) {
        // The side that became writable lets the other side read again.
        switch side {
        case .client: upstreamHandler?.resumeIfAllowed()
        case .upstream: clientHandler?.resumeIfAllowed()
        }
    }

    func readComplete(_ side: Side) {
        server.statistics.add(&statistics)
        switch side {
        case .client: upstreamChannel?.flush()
        case .upstream: clientChannel.flush()
        }
    }

    // MARK: Frames

    /// A whole request frame from the client; `forwarded` when its bytes already went upstream as they
    /// arrived (cut-through), so only the bookkeeping and the capture are left.
    func frameFromClient(_ frame: ByteBuffer, forwarded: Bool = false) {
        if machine.clientFrame(frame) == .saslToken {
            saslToken(frame, fromClient: true)
            if !forwarded, let upstreamChannel { write(frame, to: upstreamChannel) }
            return
        }
        let time = server.now()
        let prefix = KafkaRequestPrefix(payload: frame)
        var payload = frame
        var flags: FrameFlags = []
        if let prefix, !server.configuration.keepCredentials,
            CredentialRedactor.needsRedaction(apiKey: prefix.apiKey, direction: true)
        {
            // AlterConfigs without a secret value comes back unchanged: not marked redacted.
            let redacted = CredentialRedactor.redactRequest(frame)
            if redacted != frame {
                payload = redacted
                flags.insert(.redacted)
            }
        }
        record(
            .frame(
                FrameRecord(
                    time: time, connectionId: id, direction: .request, flags: flags,
                    wireLength: UInt32(frame.readableBytes), payload: payload)))
        if let prefix {
            faults?.observeRequest(frame, prefix)
            statistics.request(apiKey: prefix.apiKey, apiVersion: prefix.apiVersion, bytes: frame.readableBytes)
            if Self.expectsResponse(frame, prefix) {
                tracker.requestSent(
                    .init(
                        correlationId: prefix.correlationId, apiKey: prefix.apiKey, apiVersion: prefix.apiVersion,
                        sentMonotonicNs: time.monotonicNs))
            }
        } else {
            recordEvent(
                kind: .malformedFrame, connectionId: id,
                message: "request frame of \(frame.readableBytes) bytes is too short for a header; forwarded anyway")
        }
        if !forwarded, let upstreamChannel { write(frame, to: upstreamChannel) }
    }

    /// A whole response frame from the broker; `forwarded` when its bytes already went to the client
    /// as they arrived (cut-through), so only the bookkeeping and the capture are left.
    func frameFromUpstream(_ frame: ByteBuffer, forwarded: Bool = false) {
        if responsesBlocked {
            assert(!forwarded, "a streamed response never waits behind a blocked one")
            responseQueue.append(frame)
            return
        }
        processResponse(frame, forwarded: forwarded)
    }

    // MARK: Cut-through

    /// Whether the request whose first bytes just arrived may be sent upstream as it arrives. Nothing
    /// on the request side changes what the broker gets: redaction changes only the captured copy,
    /// and faults only observe requests; both get the whole frame at the end (`frameFromClient`). The
    /// exceptions: the raw tokens of the legacy SASL flow (no Kafka header; the state machine judges
    /// each whole), SaslHandshake (it moves the state machine), and a connection without its
    /// upstream side (closing).
    func mayCutThroughRequest(apiKey: Int16) -> Bool {
        !closing && !machine.inSaslTokenExchange && apiKey != 17 && upstreamChannel != nil
    }

    func startStreamedRequest(size: Int32, first: ByteBuffer) {
        guard let upstreamChannel else { return }
        var header = upstreamChannel.allocator.buffer(capacity: 4)
        header.writeInteger(size, endianness: .big)
        upstreamChannel.write(header, promise: nil)
        upstreamChannel.write(first, promise: nil)
    }

    func forwardStreamedRequest(_ part: ByteBuffer) {
        upstreamChannel?.write(part, promise: nil)
    }

    /// The client connection ended while a streamed request was incomplete: the broker got part of it
    /// (and loses its connection right after, with the client's).
    func streamedRequestCut(received: Int, missing: Int) {
        let who = closing ? "the connection was closed" : "the client closed the connection"
        recordEvent(
            kind: .malformedFrame, connectionId: id,
            message: "\(who) in the middle of a request: \(received) bytes were forwarded, \(missing) never came",
            attributes: [.init("side", "client"), .init("receivedBytes", String(received)), .init("missingBytes", String(missing))])
    }

    /// Whether the response with this correlation id, whose first bytes just arrived, may be sent on
    /// as it arrives: it is the next one expected, nothing is held back before it, and no filter that
    /// changes what the client gets wants it (no fault staged, no broker addresses to rewrite).
    func mayCutThrough(correlationId: Int32) -> Bool {
        guard !closing, !machine.inSaslTokenExchange, faults == nil, !responsesBlocked, responseQueue.isEmpty, heldForReorder == nil,
            let next = tracker.outstandingRequests.first, next.correlationId == correlationId
        else { return false }
        let api = ResponseInFlight.API(key: next.apiKey, version: next.apiVersion)
        return !responseFilters.contains { $0.changesWhatTheClientGets && $0.wants(api) }
    }

    func startStreamed(size: Int32, first: ByteBuffer) {
        var header = clientChannel.allocator.buffer(capacity: 4)
        header.writeInteger(size, endianness: .big)
        clientChannel.write(header, promise: nil)
        clientChannel.write(first, promise: nil)
    }

    func forwardStreamed(_ part: ByteBuffer) {
        clientChannel.write(part, promise: nil)
    }

    /// The upstream connection ended while a streamed response was incomplete: the client got part of it.
    func streamedResponseCut(received: Int, missing: Int) {
        // Closing already: the client or the proxy ended the connection, not the broker.
        let who = closing ? "the connection was closed" : "the broker closed the connection"
        recordEvent(
            kind: .malformedFrame, connectionId: id,
            message: "\(who) in the middle of a response: \(received) bytes were forwarded, \(missing) never came",
            attributes: [.init("side", "broker"), .init("receivedBytes", String(received)), .init("missingBytes", String(missing))])
    }

    /// A raw SASL token of the legacy flow (no Kafka header): forwarded untouched, and recorded as a
    /// redaction event without its bytes (with them under `--keep-credentials`), never as a frame that
    /// readers would try to decode as Kafka.
    private func saslToken(_ frame: ByteBuffer, fromClient: Bool) {
        let who = fromClient ? "client" : "broker"
        let keep = server.configuration.keepCredentials
        recordEvent(
            kind: .redaction, connectionId: id,
            message: "legacy SASL token from the \(who) (\(frame.readableBytes) bytes, after SaslHandshake v0)"
                + (keep ? "" : "; forwarded, not recorded"),
            attributes: [.init("side", who), .init("saslToken", String(frame.readableBytes))],
            payload: keep ? frame : nil)
    }

    private func processResponse(_ frame: ByteBuffer, forwarded: Bool = false) {
        if machine.brokerFrame(frame) == .saslToken {
            saslToken(frame, fromClient: false)
            if !forwarded { write(frame, to: clientChannel) }
            return
        }
        let time = server.now()
        let correlationId = KafkaFrameCodec.responseCorrelationId(frame) ?? -1
        let match = tracker.responseReceived(correlationId: correlationId)
        // Counted on the connection; added to the server's statistics on read-complete.
        if let p = match.pending {
            statistics.exchange(
                apiKey: p.apiKey, apiVersion: p.apiVersion, responseBytes: frame.readableBytes,
                latencyNs: time.monotonicNs > p.sentMonotonicNs ? time.monotonicNs - p.sentMonotonicNs : 0)
        } else {
            statistics.response(bytes: frame.readableBytes)
        }
        switch match {
        case .inOrder:
            break
        case .outOfOrder(_, let expected):
            recordEvent(
                kind: "response-order", connectionId: id,
                message: "response \(correlationId) arrived while \(expected) was still outstanding")
        case .unknown:
            recordEvent(
                kind: "unmatched-response", connectionId: id,
                message: "response with correlation id \(correlationId) matches no outstanding request")
        }
        // The filter chain: only the filters that want this API and version see the response.
        var response = ResponseInFlight(frame: frame, match: match, time: time)
        let api = response.api
        for f in filtersBeforeDelivery where f.wants(api) { f.filter(&response, self) }
        // Triggers judge what the client got, once it was delivered and captured.
        defer { for f in filtersAfterDelivery where f.wants(api) { f.filter(&response, self) } }
        if let reason = response.closeReason {
            close(by: .proxy, reason: reason)
            return
        }
        if let faults, let pending = response.pending {
            if let held = heldForReorder {
                heldForReorder = nil
                faults.reordered = true
                server.statistics.fault()
                recordEvent(
                    kind: .fault, connectionId: id,
                    message: "reorder-responses: response \(pending.correlationId) sent before \(held.pending?.correlationId ?? -1)",
                    attributes: [.init("correlationId", String(pending.correlationId))])
                deliver(response, at: time)
                deliver(held, at: server.now())
                return
            }
            if response.holdForReorder && tracker.outstandingCount > 0 {
                // A held response goes out as it is when the next one comes (a delay fault does not apply).
                response.delayMs = 0
                heldForReorder = response
                // If no other response comes soon, send it after all.
                eventLoop.scheduleTask(in: .milliseconds(200)) { [self] in
                    guard let held = heldForReorder else { return }
                    heldForReorder = nil
                    deliver(held, at: server.now())
                    clientChannel.flush()
                }
                return
            }
        }
        deliver(response, at: time, forwarded: forwarded)
    }

    /// Sends a response to the client, after its `delayMs`, rewriting broker addresses first when the
    /// rewrite filter asked for it. The at-delivery filters (the capture) see it when it is actually
    /// sent, stamped with that time.
    private func deliver(_ r: ResponseInFlight, at time: CaptureTimestamp, forwarded: Bool = false) {
        if r.delayMs > 0 {
            responsesBlocked = true
            var undelayed = r
            undelayed.delayMs = 0
            let later = undelayed
            eventLoop.scheduleTask(in: .milliseconds(Int64(r.delayMs))) { [self] in
                responsesBlocked = false
                deliver(later, at: server.now())
                drainResponses()
            }
            return
        }
        var delivered = r
        delivered.time = time
        let api = delivered.api
        for f in filtersAtDelivery where f.wants(api) { f.filter(&delivered, self) }
        if forwarded { return }
        guard r.rewriteAddresses, let pending = r.pending else {
            write(r.toClient, to: clientChannel)
            return
        }
        rewriteAndForward(r.toClient, pending: pending)
    }

    /// Processes queued responses until one blocks again.
    private func drainResponses() {
        while !responsesBlocked, let next = responseQueue.popFirst() {
            processResponse(next)
        }
        server.statistics.add(&statistics)
        clientChannel.flush()
        if !responsesBlocked { resumeReadingNow() }
    }

    private func rewriteAndForward(_ frame: ByteBuffer, pending: CorrelationTracker.Pending) {
        let decoded: KafkaDecodedResponse
        do {
            decoded = try KafkaFrameCodec.decodeResponse(frame, apiKey: pending.apiKey, apiVersion: pending.apiVersion)
        } catch {
            recordEvent(
                kind: .malformedFrame, connectionId: id,
                message: "cannot decode response to rewrite its broker addresses (forwarded unchanged; the client may bypass the proxy): \(error)",
                attributes: [.init("correlationId", String(pending.correlationId))])
            write(frame, to: clientChannel)
            return
        }
        let endpoints = AddressRewriter.endpoints(in: decoded)
        if endpoints.isEmpty {
            write(frame, to: clientChannel)
            return
        }
        responsesBlocked = true
        let futures = endpoints.map { server.ensureNodeListener($0, on: eventLoop) }
        EventLoopFuture.whenAllComplete(futures, on: eventLoop).whenComplete { [self] result in
            var ports: [Int32: Int] = [:]
            if case .success(let results) = result {
                for (endpoint, r) in zip(endpoints, results) {
                    if case .success(let port) = r { ports[endpoint.nodeId] = port }
                }
            }
            let (rewritten, changes) = AddressRewriter.rewrite(
                decoded, advertiseHost: server.configuration.effectiveAdvertiseHost, ports: ports)
            server.statistics.rewrite()
            var attributes: [EventRecord.Attribute] = [
                .init("correlationId", String(pending.correlationId)), .init("apiKey", String(pending.apiKey)),
                .init("apiVersion", String(pending.apiVersion)),
            ]
            attributes += changes.map { .init("node \($0.nodeId)", "\($0.from) -> \($0.to)") }
            let unmapped = endpoints.filter { ports[$0.nodeId] == nil }
            if !unmapped.isEmpty {
                attributes.append(.init("unmapped", unmapped.map { "\($0.nodeId)" }.joined(separator: ",")))
            }
            recordEvent(
                kind: .rewrite, connectionId: id,
                message: "rewrote \(changes.count) broker address(es) in \(decoded.api.name) v\(pending.apiVersion) response \(pending.correlationId)",
                attributes: attributes, payload: rewritten)
            if !closing {
                write(rewritten, to: clientChannel)
            }
            responsesBlocked = false
            drainResponses()
        }
    }

    private func write(_ frame: ByteBuffer, to channel: any Channel) {
        var header = channel.allocator.buffer(capacity: 4)
        header.writeInteger(Int32(frame.readableBytes), endianness: .big)
        channel.write(header, promise: nil)
        channel.write(frame, promise: nil)
    }

    /// Produce with acks=0 is the one request a broker never answers.
    static func expectsResponse(_ frame: ByteBuffer, _ prefix: KafkaRequestPrefix) -> Bool {
        guard prefix.apiKey == 0, let api = KafkaAPIs.descriptor(apiKey: 0), api.versions.contains(prefix.apiVersion) else {
            return true
        }
        var reader = KafkaReader(frame)
        do {
            _ = try RequestHeader(from: &reader, version: api.requestHeaderVersion(prefix.apiVersion))
            let flexible = api.isFlexible(prefix.apiVersion)
            if prefix.apiVersion >= 3 { _ = try reader.readNullableString(compact: flexible) }
            return try reader.readInt16() != 0
        } catch {
            return true
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// Sits at the end of each side's pipeline, after the framer: hands frames to the connection and
/// holds back `read()` while the connection says the other side cannot take more. Like
/// swift-nio-examples' GlueHandler it drops the connection (and the connection drops it) in
/// `handlerRemoved`, which breaks the connection <-> handler cycle once the channel is gone.
final class ProxySideHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private(set) var connection: ProxyConnection?
    let side: ProxyConnection.Side
    var context: ChannelHandlerContext?
    var pendingRead = false

    init(connection: ProxyConnection, side: ProxyConnection.Side) {
        self.connection = connection
        self.side = side
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        switch side {
        case .client: connection?.clientHandler = self
        case .upstream: connection?.upstreamHandler = self
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connection?.handlerRemoved(side)
        connection = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if side == .client { connection?.clientActive() }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch side {
        case .client: connection?.frameFromClient(frame)
        case .upstream: connection?.frameFromUpstream(frame)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        connection?.readComplete(side)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.sideClosed(side)
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { connection?.writabilityChanged(side) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        connection?.failed(side, error)
    }

    func read(context: ChannelHandlerContext) {
        if connection?.mayRead(side) ?? true {
            context.read()
        } else {
            pendingRead = true
        }
    }

    func resumeIfAllowed() {
        guard pendingRead, let context, connection?.mayRead(side) == true else { return }
        pendingRead = false
        context.read()
    }
}
