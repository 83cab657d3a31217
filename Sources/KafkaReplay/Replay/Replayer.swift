import KafkaCapture
import KafkaProtocol
import Logging
import NIOCore
import NIOPosix

/// Replays a recorded session against a live cluster.
///
/// Every recorded client connection is opened again and its requests are sent in recorded order,
/// each only after every response that had arrived before it in the original has arrived in the
/// replay (`ReplayPlan`), paced as `ReplayConfiguration.pace` says. Values the target assigns and
/// clients echo (producer ids, fetch sessions, member ids, generations, topic ids, leader epochs)
/// are learned from the replay's own responses and substituted into later requests
/// (`BindingTable`, `RequestRewriter`); everything else goes out byte for byte, with the recorded
/// correlation ids. Connections recorded to broker node N go to the target's node N as the target's
/// own Metadata and FindCoordinator answers name it; a single-node target takes them all.
///
/// With an output sink, the replayed session is written as a capture (role `replay`, the recorded
/// connection ids and node ids), so it can be dumped and diffed like the original.
public final class Replayer: Sendable {
    /// The steps and their order, made from the session.
    public let plan: ReplayPlan
    /// The target and how to replay against it.
    public let configuration: ReplayConfiguration
    let output: (any ProxyCaptureSink)?
    let clock: any CaptureClock
    let group: (any EventLoopGroup)?
    let logger: Logger
    let progress: (@Sendable (ReplayProgress) -> Void)?

    /// - Parameters:
    ///   - output: where the replayed session goes (`FileCaptureSink` for `--out`); nil records nothing.
    ///   - group: event loops to use (replay runs on one loop of it); by default a private one.
    ///   - progress: called on the replay's event loop after every response.
    public init(
        session: RecordedSession, configuration: ReplayConfiguration, output: (any ProxyCaptureSink)? = nil,
        clock: any CaptureClock = SystemCaptureClock(), group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "kafkatape.replay"), progress: (@Sendable (ReplayProgress) -> Void)? = nil
    ) {
        plan = ReplayPlan(session: session.filtered(connections: configuration.connections))
        self.configuration = configuration
        self.output = output
        self.clock = clock
        self.group = group
        self.logger = logger
        self.progress = progress
    }

    /// Runs the replay to the end or to the first failure (`ReplayReport.failure`); never throws.
    public func run() async -> ReplayReport {
        let ownGroup: MultiThreadedEventLoopGroup? = group == nil ? MultiThreadedEventLoopGroup(numberOfThreads: 1) : nil
        let loop = (group ?? ownGroup)?.next() ?? MultiThreadedEventLoopGroup.singleton.next()
        let engine = ReplayEngine(
            plan: plan, configuration: configuration, output: output, clock: clock, loop: loop, logger: logger,
            progress: progress)
        let report: ReplayReport
        do {
            report = try await loop.flatSubmit { engine.start() }.get()
        } catch {
            report = ReplayReport(
                totalRequests: plan.requestCount, requestsSent: 0, responsesReceived: 0, connectionsOpened: 0,
                substitutions: [:], learned: [:], elapsedNs: 0,
                failure: .targetUnreachable(address: configuration.target.description, connection: 0, reason: "\(error)"),
                warnings: [])
        }
        try? await ownGroup?.shutdownGracefully()
        return report
    }
}

/// Where a replay is, after each response.
public struct ReplayProgress: Sendable {
    /// Requests sent so far.
    public var sent: Int
    /// Responses received so far.
    public var received: Int
    /// Requests in the plan.
    public var total: Int
    /// Connections to the target open now.
    public var openConnections: Int
}
