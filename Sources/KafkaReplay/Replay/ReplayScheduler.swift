import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore

/// The replay's decisions, with no I/O: which connection to open, which request to send when, when
/// to wake up, when a connection is done and when the whole replay is. Events in (one mutating
/// function per input), actions out; `ReplayEngine` performs the actions on sockets and feeds the
/// results back. Time is what the driver says it is, so the scheduler is tested without sockets or
/// clocks.
struct ReplayScheduler {
    /// What the driver must do, in order.
    enum Action: Equatable {
        /// Open recorded connection `connection` to `address`.
        case connect(connection: Int, address: HostPort)
        /// Send this request payload (substitutions applied) on the connection; arm a response
        /// deadline when `awaitResponse`.
        case send(connection: Int, step: Int, payload: ByteBuffer, awaitResponse: Bool)
        /// Drop the response deadline of a step that was answered.
        case cancelDeadline(connection: Int, step: Int)
        /// Close the connection (the recorded client closed it once it was done).
        case close(connection: Int)
        /// Call `wake(nowNs:)` at this monotonic time (an earlier wake-up replaces a later one).
        case wake(atNs: UInt64)
        /// Write an event to the output capture.
        case event(kind: EventRecord.Kind, connection: UInt64?, message: String, attributes: [EventRecord.Attribute])
        /// Close every open connection and report: the replay is over.
        case finish
    }

    struct Connection {
        let recorded: RecordedConnection
        let steps: [ReplayPlan.Step]
        var open = false
        var connecting = false
        var nextStep = 0
        /// Steps sent and waiting for an answer, oldest first.
        var outstanding: [Int] = []
        var responded: [Bool]
        var closedByUs = false
        var finished = false

        var requiredOutstanding: Int { outstanding.filter { steps[$0].responseRequired }.count }
        var allSent: Bool { nextStep >= steps.count }
    }

    let plan: ReplayPlan
    let configuration: ReplayConfiguration
    private(set) var connections: [Connection]
    private(set) var bindings = BindingTable()
    private(set) var endpoints: [Int32: HostPort] = [:]
    private var recordedTopicNames: [KafkaUUID: String] = [:]
    private var replayTopicNames: [KafkaUUID: String] = [:]
    /// Topics the session's requests use (a target without one of them cannot replay it).
    private let sessionTopics: Set<String>
    private(set) var failure: ReplayFailure?
    private(set) var warnings: [String] = []
    /// Partitions whose replayed log does not line up with the recording's.
    private var offsetShifts = OffsetShiftCheck()
    private(set) var substitutions: [String: Int] = [:]
    private(set) var learned: [String: Int] = [:]
    private(set) var sent = 0
    private(set) var received = 0
    private(set) var opened = 0
    private var startNs: UInt64 = 0
    private var wakeAt: UInt64?
    private(set) var finishing = false
    /// The output capture is over its high-water mark: send nothing until it drains.
    private(set) var outputBlocked = false

    init(plan: ReplayPlan, configuration: ReplayConfiguration) {
        self.plan = plan
        self.configuration = configuration
        connections = plan.connections.enumerated().map { i, c in
            Connection(recorded: c, steps: plan.steps[i], responded: Array(repeating: false, count: plan.steps[i].count))
        }
        var session = RecordedSession(records: [])
        session.connections = plan.connections
        sessionTopics = TopicErrorCheck.sessionTopics(session)
    }

    var elapsedStart: UInt64 { startNs }

    // MARK: Events

    mutating func start(nowNs: UInt64) -> [Action] {
        startNs = nowNs
        return pump(nowNs: nowNs)
    }

    mutating func wake(nowNs: UInt64) -> [Action] {
        if let w = wakeAt, w <= nowNs { wakeAt = nil }
        return pump(nowNs: nowNs)
    }

    mutating func connected(_ index: Int, nowNs: UInt64) -> [Action] {
        connections[index].connecting = false
        guard failure == nil, !finishing else { return [.close(connection: index)] }
        connections[index].open = true
        opened += 1
        return pump(nowNs: nowNs)
    }

    mutating func connectFailed(_ index: Int, address: HostPort, reason: String) -> [Action] {
        connections[index].connecting = false
        let id = connections[index].recorded.id
        return [.event(kind: .upstreamUnreachable, connection: id, message: "cannot connect to \(address): \(reason)", attributes: [])]
            + fail(.targetUnreachable(address: address.description, connection: id, reason: reason))
    }

    /// A response frame arrived on the connection. `replayed` is its decoded body, when it decodes.
    mutating func responseArrived(_ index: Int, correlationId: Int32?, payload: ByteBuffer, nowNs: UInt64) -> [Action] {
        guard let correlationId,
            let position = connections[index].outstanding.firstIndex(where: {
                connections[index].steps[$0].exchange.correlationId == correlationId
            })
        else {
            warnings.append("connection \(connections[index].recorded.id): a response matches no outstanding request")
            return []
        }
        let step = connections[index].outstanding.remove(at: position)
        connections[index].responded[step] = true
        received += 1
        var actions: [Action] = [.cancelDeadline(connection: index, step: step)]
        if let f = compareAndLearn(connections[index].steps[step].exchange, replayed: payload, connection: index) {
            return actions + fail(f)
        }
        actions += pump(nowNs: nowNs)
        return actions
    }

    /// The connection closed (by either side).
    mutating func closed(_ index: Int, nowNs: UInt64) -> [Action] {
        connections[index].open = false
        guard !connections[index].closedByUs, failure == nil, !finishing else { return [] }
        let pending = connections[index].requiredOutstanding
        if pending > 0 {
            return fail(.connectionLost(connection: connections[index].recorded.id, outstanding: pending))
        }
        connections[index].outstanding.removeAll()
        return pump(nowNs: nowNs)
    }

    /// A sent request's response deadline passed.
    mutating func deadlinePassed(_ index: Int, step: Int) -> [Action] {
        guard failure == nil, !finishing, !connections[index].responded[step] else { return [] }
        let e = connections[index].steps[step].exchange
        return fail(
            .noResponse(
                connection: connections[index].recorded.id, correlationId: e.correlationId, api: e.apiName ?? "ApiKey\(e.apiKey)",
                waitedMs: configuration.responseTimeoutMs))
    }

    /// The output capture's backlog passed its high-water mark (true) or drained (false).
    mutating func outputBackpressure(_ blocked: Bool, nowNs: UInt64) -> [Action] {
        outputBlocked = blocked
        return blocked ? [] : pump(nowNs: nowNs)
    }

    // MARK: Decisions

    /// Sends everything the order, the pace and the output allow; opens connections as their first
    /// request (or, for connections without requests, their opening) becomes due; finishes when
    /// every connection is done.
    private mutating func pump(nowNs now: UInt64) -> [Action] {
        guard failure == nil, !finishing else { return [] }
        var actions: [Action] = []
        var earliest: UInt64?
        for i in connections.indices where !connections[i].finished {
            if connections[i].steps.isEmpty && !connections[i].open && !connections[i].connecting {
                // A connection without requests: opened once its place in the order comes, then closed.
                let open = plan.opens[i]
                guard dependenciesMet(open.dependencies) else { continue }
                if let due = due(open.offsetNs), due > now {
                    earliest = min(earliest ?? due, due)
                    continue
                }
                actions += connect(i)
                if failure != nil { return actions }
                continue
            }
            sending: while !connections[i].allSent && !outputBlocked {
                let step = connections[i].steps[connections[i].nextStep]
                guard dependenciesMet(step.dependencies) else { break }
                if let due = due(step.offsetNs), due > now {
                    earliest = min(earliest ?? due, due)
                    break
                }
                guard connections[i].open else {
                    if !connections[i].connecting { actions += connect(i) }
                    if failure != nil { return actions }
                    break sending
                }
                actions += send(step, on: i)
                if failure != nil { return actions }
            }
            actions += finishIfDone(i)
        }
        if connections.allSatisfy(\.finished) {
            finishing = true
            actions.append(.finish)
            return actions
        }
        if let earliest, wakeAt.map({ earliest < $0 }) ?? true {
            wakeAt = earliest
            actions.append(.wake(atNs: earliest))
        }
        return actions
    }

    private func dependenciesMet(_ deps: [ReplayPlan.Dependency]) -> Bool {
        deps.allSatisfy { connections[$0.connection].responded[$0.step] }
    }

    /// When a recorded offset falls due at the configured pace (nil: at once).
    private func due(_ offsetNs: UInt64) -> UInt64? {
        guard let factor = configuration.pace.factor else { return nil }
        let scaled = Double(offsetNs) / factor
        // Bounded factors (ReplayPace) keep this finite; the clamp keeps a stretched timeline from trapping.
        return startNs &+ (scaled < 1.8e19 ? UInt64(scaled) : UInt64.max / 2)
    }

    /// A connection is done when every request went out and every answer the recording had came
    /// back (a connection without requests: once it has been opened). The recorded client closed it
    /// then (or the capture ended): close it the same way.
    private mutating func finishIfDone(_ i: Int) -> [Action] {
        let c = connections[i]
        guard c.allSent, c.requiredOutstanding == 0, !c.finished else { return [] }
        if c.steps.isEmpty && !c.open { return [] }
        connections[i].finished = true
        guard c.open, c.recorded.closed != nil else { return [] }
        connections[i].closedByUs = true
        return [.close(connection: i)]
    }

    private func route(_ i: Int) -> Result<HostPort, ReplayFailure> {
        let recordedNode = connections[i].recorded.nodeId
        guard recordedNode >= 0 else { return .success(configuration.target) }
        let node = Int32(truncatingIfNeeded: bindings.mapped(.node, .int(Int64(recordedNode)))?.intValue ?? Int64(recordedNode))
        if let forced = configuration.targetNodes.address(forNode: node) { return .success(forced) }
        if let e = endpoints[node] { return .success(e) }
        let distinct = Set(endpoints.values)
        if distinct.count == 1, let only = distinct.first { return .success(only) }
        if endpoints.isEmpty { return .success(configuration.target) }
        return .failure(.unknownNode(nodeId: node, known: endpoints.keys.sorted()))
    }

    private mutating func connect(_ i: Int) -> [Action] {
        switch route(i) {
        case .failure(let f):
            return fail(f)
        case .success(let address):
            connections[i].connecting = true
            return [.connect(connection: i, address: address)]
        }
    }

    private mutating func send(_ step: ReplayPlan.Step, on i: Int) -> [Action] {
        let e = step.exchange
        let id = connections[i].recorded.id
        let result: RequestRewriter.Result
        do {
            result = try RequestRewriter.rewrite(e.request.payload, bindings: bindings)
        } catch {
            return fail(
                .substitutionFailed(connection: id, correlationId: e.correlationId, api: e.apiName ?? "ApiKey\(e.apiKey)", detail: error.description))
        }
        var actions: [Action] = []
        if !result.edits.isEmpty {
            for edit in result.edits { substitutions[edit.kind, default: 0] += 1 }
            actions.append(
                .event(
                    kind: .rewrite, connection: id,
                    message: "replay substituted \(result.edits.count) live value(s) in \(e.apiName ?? "request") \(e.correlationId)",
                    attributes: result.edits.map {
                        EventRecord.Attribute($0.path.description, "\(KafkaJSON.render($0.old)) -> \(KafkaJSON.render($0.new))")
                    }))
        }
        let index = connections[i].nextStep
        connections[i].nextStep += 1
        sent += 1
        if step.expectsResponse { connections[i].outstanding.append(index) }
        actions.append(.send(connection: i, step: index, payload: result.payload, awaitResponse: step.responseRequired))
        return actions
    }

    /// Learns bound values and broker endpoints from a replayed answer; a failure when the target
    /// lacks a topic the recording had.
    private mutating func compareAndLearn(_ e: Exchange, replayed: ByteBuffer, connection i: Int) -> ReplayFailure? {
        guard let decoded = try? KafkaFrameCodec.decodeResponse(replayed, apiKey: e.apiKey, apiVersion: e.apiVersion) else {
            return nil
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
        else { return nil }
        let recordedTree = recorded.body.kafkaValue(version: recorded.apiVersion)
        MessageNormalizer.collectTopicNames(recordedTree, into: &recordedTopicNames)
        for l in bindings.learn(recorded: recordedTree, replayed: replayTree) where l.recorded != l.replayed {
            learned[l.kind, default: 0] += 1
        }
        let id = connections[i].recorded.id
        let names = recordedTopicNames.merging(replayTopicNames) { a, _ in a }
        if e.apiKey == 0 {
            warnings += offsetShifts.produceAnswered(recorded: recordedTree, replayed: replayTree, names: names).map(\.message)
        }
        if let (topic, error) = TopicErrorCheck.missingTopic(recorded: recordedTree, replayed: replayTree, topicNames: names) {
            return .missingTopic(topic: topic, api: e.apiName ?? "ApiKey\(e.apiKey)", connection: id, error: error)
        }
        if e.apiKey == 3, let topic = TopicErrorCheck.missingFromMetadata(recorded: recordedTree, replayed: replayTree, used: sessionTopics) {
            return .missingTopic(topic: topic, api: "Metadata", connection: id, error: "no such topic")
        }
        return nil
    }

    private mutating func fail(_ f: ReplayFailure) -> [Action] {
        guard failure == nil, !finishing else { return [] }
        failure = f
        finishing = true
        for i in connections.indices where connections[i].open { connections[i].closedByUs = true }
        return [.event(kind: "replay-failed", connection: nil, message: f.description, attributes: []), .finish]
    }

    /// Marks every open connection as closed by replay (the driver is closing them all).
    mutating func closingAll() {
        for i in connections.indices where connections[i].open { connections[i].closedByUs = true }
    }

    func closedByUs(_ i: Int) -> Bool { connections[i].closedByUs }

    func report(elapsedNs: UInt64) -> ReplayReport {
        ReplayReport(
            totalRequests: plan.requestCount, requestsSent: sent, responsesReceived: received, connectionsOpened: opened,
            substitutions: substitutions, learned: learned, elapsedNs: elapsedNs, failure: failure, warnings: warnings)
    }

    var progress: ReplayProgress {
        ReplayProgress(sent: sent, received: received, total: plan.requestCount, openConnections: connections.filter(\.open).count)
    }
}
