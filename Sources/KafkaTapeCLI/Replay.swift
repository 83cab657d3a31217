import ArgumentParser
import Foundation
import KafkaCapture
import KafkaEndpoints
import KafkaReplay
import Logging

extension KafkaTape {
    /// `kafkatape replay`: re-run a capture's client side against a live cluster.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-send a capture's client requests to a live cluster, in the recorded order.",
            discussion: """
                Every recorded client connection is opened again and its requests are sent in recorded order. \
                Across connections the recorded happens-before order is kept: a request goes out only after every \
                response that had arrived before it in the original has arrived in the replay.
                Values the broker assigns and clients echo (producer id/epoch, fetch session id, member id, \
                generation, topic ids, leader epochs, client instance id) are taken from the replay's own answers \
                and substituted into later requests; record batches are re-sent byte for byte except for a \
                substituted producer id/epoch (CRC recomputed). Connections recorded to broker node N go to the \
                target's node N (from the target's own Metadata); a single-node target takes them all.
                --pace: fast (as soon as the order allows, the default), original (the recorded gaps), or a speed \
                factor (2 = twice as fast, 0.5 = half speed).
                --out writes the replayed session as a new capture, to dump, diff and check like any other; it \
                keeps what was done so far when the replay stops early.
                Replay against a fresh cluster: requests carry the recorded offsets, and a partition whose first \
                Produce lands elsewhere than in the recording (the target held other records there) is named in \
                a warning, because offsets, high watermarks and fetched records differ from there.
                Exit codes: 0 the replay completed (differences in the answers are for `kafkatape diff`), 2 bad \
                input, an unreachable target, or a replay that could not complete (a topic the target lacks, a \
                request left unanswered); the reason is printed on stderr.
                """)

        @Argument(help: "Capture to replay (the first segment of a rotated capture).")
        var capture: String

        @Option(help: "Bootstrap broker of the cluster to replay against, HOST:PORT.")
        var target: String

        @Option(help: "Write the replayed session as a new capture here (mode 0600).")
        var out: String?

        @Option(help: "fast, original, or a speed factor (2 = twice as fast).")
        var pace = "fast"

        @Option(name: .customLong("connection"), help: "Replay only this recorded connection id (repeatable).")
        var connections: [UInt64] = []

        @Option(
            name: .customLong("target-node"),
            help: ArgumentHelp(
                "Connect to the target's node NODE at HOST:PORT instead of the address its Metadata advertises (repeatable; NODE a node id or * for every node).",
                valueName: "NODE=HOST:PORT"))
        var targetNodes: [String] = []

        @Option(help: "Seconds a request may wait for its answer before the replay gives up.")
        var timeout: Double = 60

        @Flag(help: "Replace an existing file at --out.")
        var overwrite = false

        func validate() throws {
            guard HostPort(target) != nil else { throw ValidationError("--target must be HOST:PORT, got '\(target)'") }
            guard ReplayPace(pace) != nil else { throw ValidationError("--pace must be fast, original or a factor from 0.001 to 1000000, got '\(pace)'") }
            guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
                throw ValidationError("--timeout must be a number of seconds between 0 and 86400, got '\(timeout)'")
            }
            _ = try parsedTargetNodes()
        }

        func parsedTargetNodes() throws -> NodeAddressMap {
            do { return try NodeAddressMap(parsing: targetNodes, option: "--target-node") } catch {
                throw ValidationError(error.description)
            }
        }

        func run() async throws {
            guard let targetAddress = HostPort(target), let replayPace = ReplayPace(pace) else { return }
            let session: RecordedSession
            do {
                session = try RecordedSession.read(path: capture)
            } catch {
                throw UsageError(error.description)
            }
            for w in session.warnings { stderr("warning: \(w)") }
            let known = Set(session.connections.map(\.id))
            if let unknown = connections.first(where: { !known.contains($0) }) {
                throw UsageError("--connection \(unknown): the capture has no such connection (it has \(known.sorted().map(String.init).joined(separator: ", ")))")
            }
            let sink: FileCaptureSink?
            if let out {
                let header = CaptureHeader(
                    toolVersion: "kafkatape \(KafkaTape.version)", startTime: SystemCaptureClock().now(),
                    listenAddress: "replay of \(capture)", upstreamAddress: targetAddress.description)
                do {
                    sink = try FileCaptureSink(
                        path: out, header: header, overwrite: overwrite,
                        onError: { error in stderr("error: writing \(out) failed: \(error)") })
                } catch {
                    throw UsageError(error.kind == .fileExists ? "--out \(out): file exists (use --overwrite to replace it)" : "--out \(error)")
                }
            } else {
                sink = nil
            }
            let configuration = ReplayConfiguration(
                target: targetAddress, pace: replayPace, connections: Set(connections),
                responseTimeoutMs: Int64(timeout * 1000), targetNodes: try parsedTargetNodes())
            var logger = Logger(label: "kafkatape")
            logger.logLevel = .warning
            let progress: ProgressLine? = isatty(STDERR_FILENO) != 0 ? ProgressLine() : nil
            var onProgress: (@Sendable (ReplayProgress) -> Void)?
            if let progress {
                onProgress = { p in progress.update(p) }
            }
            let replayer = Replayer(
                session: session, configuration: configuration, output: sink, logger: logger, progress: onProgress)
            let report = await replayer.run()
            progress?.clear()
            var closeError: (any Error)?
            do { try sink?.close() } catch { closeError = error }
            for line in report.summaryLines { print(line) }
            for w in report.warnings { stderr("warning: \(w)") }
            if let out { print("capture: \(out)") }
            if let failure = report.failure {
                throw UsageError("replay stopped: \(failure)" + (out.map { "; what was replayed so far is in \($0)" } ?? ""))
            }
            if let closeError, let out { throw UsageError("capture \(out) incomplete: \(closeError)") }
        }
    }
}

/// A self-overwriting progress line on a terminal's stderr, at most ten updates a second.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var last: TimeInterval = 0
    private var shown = false

    func update(_ p: ReplayProgress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSinceReferenceDate
        guard now - last >= 0.1 || p.sent == p.total else { return }
        last = now
        shown = true
        writeToStandardError("\rreplay: \(p.sent)/\(p.total) sent, \(p.received) answered, \(p.openConnections) connection(s) open\u{1B}[K")
    }

    func clear() {
        lock.lock()
        defer { lock.unlock() }
        if shown { writeToStandardError("\r\u{1B}[K") }
    }
}
