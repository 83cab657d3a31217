import ArgumentParser
import Foundation
import KafkaEndpoints
import KafkaReplay
import Logging

extension KafkaTape {
    /// `kafkatape serve`: a mock broker that answers from a capture.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Act as the recorded broker: answer each request with the recorded response.",
            discussion: """
                Listens like a broker: a bootstrap listener at --listen plus one listener per recorded broker node \
                (node N on the --listen port + 1 + N, or ephemeral ports when --listen has port 0). Each request is \
                matched to a recorded request of the same API key and version by normalised content (correlation \
                id and client id ignored; the noise rules of `kafkatape diff`, see its --help, with identifiers \
                ignored rather than renamed), in recorded order per connection, and answered with the recorded \
                response: correlation id rewritten, broker addresses pointing at serve's own listeners.
                Fields a client computes from its own clock are not matched either (--strict matches every byte of \
                the request body):
                \(NormalizationRules.clientComputedHelp)
                --on-miss says what happens to a request with no match: error (the default) answers with the \
                nearest recorded answer of that API with every ErrorCode set to UNKNOWN_SERVER_ERROR (-1) and logs \
                the nearest recorded request with its field differences; close drops the connection; nearest \
                answers with the nearest candidate's recorded response.
                --latency: fetch (the default) holds Fetch answers for their recorded latency, so consumers poll at \
                the recorded rate; all holds every answer; none answers at once (long polls return immediately).
                Without --loop, serve exits once the recorded session has been played through (every recorded \
                answer given once, every client disconnected); with --loop it starts over then. SIGINT or SIGTERM \
                stop it either way. The summary (stdout) lists every miss.
                Exit codes: 0 every request matched, 1 there were misses, 2 bad input.
                """)

        @Argument(help: "Capture to serve (the first segment of a rotated capture).")
        var capture: String

        @Option(help: "Bootstrap listener, HOST:PORT (port 0: ephemeral, printed on stderr).")
        var listen = "127.0.0.1:19092"

        @Option(help: "error, close or nearest.")
        var onMiss = "error"

        @Flag(help: "Start over once the session has been played through, instead of exiting.")
        var loop = false

        @Option(help: "none, fetch or all: which recorded response times to reproduce.")
        var latency = "fetch"

        @Option(help: "Host to advertise in broker addresses (default: the --listen host).")
        var advertiseHost: String?

        @Option(name: .customLong("node-port"), help: "Port for a recorded node, NODE=PORT (repeatable).")
        var nodePorts: [String] = []

        @Option(name: .customLong("ignore"), help: "Also ignore this field path when matching (repeatable; see diff --help).")
        var ignore: [String] = []

        @Flag(help: "Match every byte of the request body: no noise rules, no client-computed fields.")
        var strict = false

        @OptionGroup var ready: ReadyFileOption

        func validate() throws {
            guard HostPort(listen) != nil else { throw ValidationError("--listen must be HOST:PORT, got '\(listen)'") }
            guard ServeMissPolicy(rawValue: onMiss) != nil else { throw ValidationError("--on-miss must be error, close or nearest") }
            guard ServeLatency(rawValue: latency) != nil else { throw ValidationError("--latency must be none, fetch or all") }
            _ = try parsedNodePorts()
        }

        func parsedNodePorts() throws -> [Int32: Int] {
            var result: [Int32: Int] = [:]
            for spec in nodePorts {
                let parts = spec.split(separator: "=")
                guard parts.count == 2, let node = Int32(parts[0]), let port = Int(parts[1]), (1...65535).contains(port) else {
                    throw ValidationError("--node-port must be NODE=PORT, got '\(spec)'")
                }
                result[node] = port
            }
            return result
        }

        func run() async throws {
            // Inside the service group from the start: SIGINT/SIGTERM are trapped before the listener
            // opens, so a signal sent as soon as the "listening" line appears stops serve gracefully.
            try await runUntilStopped { try await self.serve() }
        }

        func serve() async throws {
            guard let listenAddress = HostPort(listen), let policy = ServeMissPolicy(rawValue: onMiss),
                let latencyMode = ServeLatency(rawValue: latency)
            else { return }
            var patterns: [FieldPattern] = []
            for text in ignore {
                do { patterns.append(try FieldPattern(text)) } catch { throw UsageError("--ignore: \(error)") }
            }
            let session: RecordedSession
            do {
                session = try RecordedSession.read(path: capture)
            } catch {
                throw UsageError(error.description)
            }
            for w in session.warnings { stderr("warning: \(w)") }
            if !listenAddress.isLoopback {
                stderr("warning: listening on \(listenAddress), not loopback: anyone who connects gets the recorded data")
            }
            let configuration = ServeConfiguration(
                listen: listenAddress, advertiseHost: advertiseHost, nodePorts: try parsedNodePorts(), onMiss: policy, loop: loop,
                rules: .serveMatching(ignoring: patterns, strict: strict), latency: latencyMode)
            var logger = Logger(label: "kafkatape")
            logger.logLevel = .info  // misses, as they happen
            let stopLatch = StopLatch()
            let server = CaptureServer(session: session, configuration: configuration, logger: logger)
            do {
                try await server.start()
            } catch {
                await server.stop()
                throw UsageError("cannot listen on \(listenAddress): \(error)")
            }
            let nodes = server.nodePorts.sorted { $0.key < $1.key }.map { "node \($0.key) -> port \($0.value)" }
            stderr(
                "serving \(capture): listening on \(listenAddress.host):\(server.bootstrapPort)"
                    + (nodes.isEmpty ? "" : " (\(nodes.joined(separator: ", ")))"))
            do {
                try ready.announce(server.bootstrapAddress)
            } catch {
                await server.stop()
                throw error
            }
            defer { ready.withdraw() }
            server.playedThrough.whenSuccess { stopLatch.fire("session played through") }
            let reason = await stopLatch.wait()
            stderr("serving: \(reason), stopping")
            await server.stop()
            let report = server.report
            for line in report.summaryLines { print(line) }
            if !report.misses.isEmpty { throw FindingsExit() }
        }
    }
}

