import Foundation
import KafkaCapture
import KafkaEndpoints
import Logging

/// Replays one capture against each target in turn (never at once: a target is a fresh broker or a
/// gateway version, and the runs must not see each other's topics), writes each run as a capture,
/// and builds the `VersionMatrix`.
public struct MatrixRunner: Sendable {
    /// A target to replay against.
    public struct Target: Hashable, Sendable {
        /// The column name (`tansu`, `seaweedfs-4.48`).
        public var name: String
        /// Its bootstrap address.
        public var address: HostPort
        /// Where to reach its nodes instead of what it advertises.
        public var nodes: NodeAddressMap

        /// A target named `name` at `address`, its nodes reached through `nodes`.
        public init(name: String, address: HostPort, nodes: NodeAddressMap = NodeAddressMap()) {
            self.name = name
            self.address = address
            self.nodes = nodes
        }
    }

    /// The capture to replay.
    public var capturePath: String
    /// The targets, in column order.
    public var targets: [Target]
    /// Replay settings shared by every target (the target and its nodes are set per run).
    public var replay: ReplayConfiguration
    /// How runs are compared with the recording and with each other.
    public var rules: NormalizationRules
    /// Where each run's capture goes (`DIR/NAME.ktape`); nil keeps them in a temporary folder that is removed.
    public var outputDirectory: String?
    /// Whether existing run captures in `outputDirectory` may be replaced.
    public var overwrite: Bool
    /// Where progress goes (one line per run); the library never makes its own logger.
    public var logger: Logger

    /// A matrix of `capturePath` over `targets`, compared with `rules`.
    public init(
        capturePath: String, targets: [Target], replay: ReplayConfiguration, rules: NormalizationRules = .standard(),
        outputDirectory: String? = nil, overwrite: Bool = false, logger: Logger = Logger(label: "kafkatape.matrix")
    ) {
        self.capturePath = capturePath
        self.targets = targets
        self.replay = replay
        self.rules = rules
        self.outputDirectory = outputDirectory
        self.overwrite = overwrite
        self.logger = logger
    }

    /// Runs every replay, then every diff. `progress` hears about each target as it starts, and each
    /// warning of its replay (a partition whose log does not line up with the recording's).
    public func run(recording: RecordedSession, progress: (@Sendable (String) -> Void)? = nil) async throws -> VersionMatrix {
        let fm = FileManager.default
        let directory: String
        var temporary: String?
        if let outputDirectory {
            try fm.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
            directory = outputDirectory
        } else {
            let t = fm.temporaryDirectory.appendingPathComponent("kafkatape-matrix-\(UUID().uuidString)").path
            try fm.createDirectory(atPath: t, withIntermediateDirectories: true)
            directory = t
            temporary = t
        }
        defer { if let temporary { try? fm.removeItem(atPath: temporary) } }
        var runs: [VersionMatrix.Run] = []
        var sessions: [RecordedSession] = []
        let differ = CaptureDiff(rules: rules)
        for target in targets {
            progress?("replaying against \(target.name) (\(target.address))")
            let path = directory + "/" + target.name + ".ktape"
            let header = CaptureHeader(
                toolVersion: "kafkatape", startTime: SystemCaptureClock().now(), listenAddress: "replay of \(capturePath)",
                upstreamAddress: target.address.description)
            let sink = try FileCaptureSink(path: path, header: header, overwrite: overwrite)
            var configuration = replay
            configuration.target = target.address
            configuration.targetNodes = target.nodes
            let report = await Replayer(session: recording, configuration: configuration, output: sink, logger: logger).run()
            for w in report.warnings { progress?("\(target.name): warning: \(w)") }
            try sink.close()
            let replayed = try RecordedSession.read(path: path)
            sessions.append(replayed)
            let diff = differ.compare(recording, replayed, pathA: capturePath, pathB: path)
            runs.append(
                VersionMatrix.Run(
                    name: target.name, address: target.address.description, replay: report, diff: diff,
                    capturePath: temporary == nil ? path : nil, replayed: replayed))
        }
        var pairDiffs: [(Int, Int, DiffReport)] = []
        for i in sessions.indices {
            for j in sessions.indices where j > i {
                pairDiffs.append((i, j, differ.compare(sessions[i], sessions[j], pathA: targets[i].name, pathB: targets[j].name)))
            }
        }
        return VersionMatrix(capture: capturePath, recording: recording, runs: runs, pairDiffs: pairDiffs)
    }
}
