import ArgumentParser
import CoreMetrics
import Foundation
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import KafkaProxy
import Logging
import Prometheus

extension KafkaTape {
    /// `kafkatape record`: the transparent proxy that writes every frame to a capture.
    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Proxy a Kafka client to a broker and write every frame both ways to a capture file.",
            discussion: """
                Point the client's bootstrap servers at --listen. Broker addresses in Metadata, FindCoordinator \
                and DescribeCluster answers are rewritten so every connection keeps going through the proxy: \
                upstream node N gets its own listener on --listen's port + 1 + N for every node id N >= 0 whose \
                port fits (Kafka's auto-assigned ids 1001, 1002, ... are 1002, 1003, ... above --listen's port), or \
                --node-port N=PORT. A derived port that is taken, or a node id without one, gets a free port with a \
                warning on stderr and a node-port-fallback event; a --node-port that cannot be bound stops the start \
                (exit 2).
                The capture stores what the broker actually sent; rewrites are recorded separately.
                --upstream-node NODE=HOST:PORT connects to a node somewhere else than where the broker says (the \
                capture keeps both: the advertised address in the node's mapping, the one used in each connection and \
                an upstream-override event).
                Runs until SIGINT or SIGTERM, then flushes the capture and prints a summary.
                SASL and delegation-token payloads, the raw tokens of the legacy SASL flow (SaslHandshake v0) and \
                AlterUserScramCredentials salts and salted passwords are redacted in the capture unless --keep-credentials.
                Resource bounds: frames still incomplete hold their declared size of --max-buffered-bytes (default \
                256 MiB across all connections; a frame that does not fit is refused and its connection closed); a \
                frame must complete within --frame-timeout seconds (default 30, Kafka clients' request.timeout.ms); a \
                connection with no bytes either way for --idle-timeout seconds (default 600, the broker's \
                connections.max.idle.ms) is closed. Each of these closes is an event in the capture.
                """)

        @Option(help: "Address clients connect to (the bootstrap listener). Loopback unless told otherwise.")
        var listen = "127.0.0.1:19092"

        @Option(help: "The broker or gateway to forward to, HOST:PORT.")
        var upstream: String

        @Option(help: "Capture file to create (mode 0600). With --rotate-bytes, segments PATH.1, PATH.2, ... follow.")
        var out: String?

        @Flag(help: .hidden)
        var noCapture = false

        @Option(help: "Host to advertise in rewritten broker addresses (default: the --listen host).")
        var advertiseHost: String?

        @Option(help: "Largest frame accepted from either side, in bytes; a larger size prefix disconnects the sender.")
        var maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes

        @Option(help: "Bytes all connections together may hold in incomplete frames (0: no limit). A frame that does not fit in what is left is refused and its connection closed, with a frame-refused event.")
        var maxBufferedBytes: Int = BufferBudget.defaultLimit

        @Option(help: "Seconds a frame may take from its first byte to its last (0: no limit); a slower sender is disconnected with a frame-timeout event. Time the proxy itself holds back reading (backpressure) does not count.")
        var frameTimeout: Double = Double(ProxyConfiguration.defaultFrameTimeoutMs) / 1000

        @Option(help: "Seconds without a byte either way after which a connection is closed with an idle-timeout event (0: never).")
        var idleTimeout: Double = Double(ProxyConfiguration.defaultIdleTimeoutMs) / 1000

        @Option(help: "Start a new capture segment after this many bytes.")
        var rotateBytes: Int?

        @Option(help: "Seconds the capture writer gathers frames before writing them to the file together (0: write each as it comes). A stop by signal or Ctrl-C writes everything; a SIGKILL loses about this much.")
        var flushInterval: Double = FileCaptureSink.defaultFlushInterval

        @Option(name: .customLong("node-port"), help: "Proxy port for an upstream node, NODE=PORT (repeatable).")
        var nodePorts: [String] = []

        @Option(
            name: .customLong("upstream-node"),
            help: ArgumentHelp(
                "Connect to broker node NODE at HOST:PORT instead of the address it advertises (repeatable; NODE a node id or * for every node). For gateways that advertise an address you cannot reach, e.g. SeaweedFS's, which always says 127.0.0.1:9093.",
                valueName: "NODE=HOST:PORT"))
        var upstreamNodes: [String] = []

        @Flag(help: "Keep SASL and delegation-token payloads in the capture instead of redacting them.")
        var keepCredentials = false

        @Flag(help: "Replace an existing capture file at --out.")
        var overwrite = false

        @Option(
            name: .customLong("fault"),
            help: ArgumentHelp(
                "Stage a gateway bug (repeatable): \(ProxyFault.specHelp). Each injection is a 'fault' event in the capture.",
                valueName: "SPEC"))
        var faultSpecs: [String] = []

        @Option(help: "Seed for the faults' randomness (same seed, same traffic: same injections).")
        var seed: UInt64 = 0

        enum OnCaptureError: String, ExpressibleByArgument, CaseIterable {
            case `continue`, stop
        }

        @Option(help: "When the capture cannot be written (disk full): keep forwarding unrecorded (continue) or stop the proxy (stop).")
        var onCaptureError: OnCaptureError = .continue

        @Option(help: "Certificate chain (PEM) for TLS on the proxy's listeners; clients then connect with TLS.")
        var tlsCert: String?

        @Option(help: "Private key (PEM) for --tls-cert.")
        var tlsKey: String?

        @Flag(help: "Connect to the upstream with TLS.")
        var upstreamTls = false

        @Option(help: "CA certificates (PEM) that verify the upstream (default: the system's).")
        var upstreamCa: String?

        @Option(help: "Client certificate (PEM) to present to the upstream.")
        var upstreamCert: String?

        @Option(help: "Private key (PEM) for --upstream-cert.")
        var upstreamKey: String?

        @Option(help: "Serve Prometheus metrics (kafkatape_*) at http://HOST:PORT/metrics.")
        var metrics: String?

        @Option(help: "Flight-recorder mode: keep the last N bytes of each connection's traffic in memory and write them only when a --trigger fires.")
        var ringBytes: Int?

        @Option(
            name: .customLong("trigger"),
            help: ArgumentHelp("What writes a connection's ring to the capture (repeatable): \(FlightTrigger.specHelp).", valueName: "SPEC"))
        var triggerSpecs: [String] = []

        @OptionGroup var ready: ReadyFileOption

        func validate() throws {
            if let metrics, HostPort(metrics) == nil { throw ValidationError("--metrics must be HOST:PORT, got '\(metrics)'") }
            if out == nil && !noCapture { throw ValidationError("--out PATH is required") }
            guard HostPort(listen) != nil else { throw ValidationError("--listen must be HOST:PORT, got '\(listen)'") }
            guard HostPort(upstream) != nil else { throw ValidationError("--upstream must be HOST:PORT, got '\(upstream)'") }
            guard maxFrameBytes > 0 else { throw ValidationError("--max-frame-bytes must be positive") }
            guard maxBufferedBytes >= 0 else { throw ValidationError("--max-buffered-bytes must be 0 (no limit) or positive") }
            for (name, value) in [("--frame-timeout", frameTimeout), ("--idle-timeout", idleTimeout)] {
                guard value.isFinite, value >= 0, value <= 86_400 else {
                    throw ValidationError("\(name) must be a number of seconds between 0 (never) and 86400, got '\(value)'")
                }
            }
            guard flushInterval.isFinite, flushInterval >= 0, flushInterval <= 10 else {
                throw ValidationError("--flush-interval must be a number of seconds between 0 (at once) and 10, got '\(flushInterval)'")
            }
            if let rotateBytes, rotateBytes < 4096 { throw ValidationError("--rotate-bytes must be at least 4096") }
            _ = try parsedNodePorts()
            _ = try parsedUpstreamNodes()
            _ = try parsedFaults()
            _ = try parsedTriggers()
            if let ringBytes, ringBytes < 1024 { throw ValidationError("--ring-bytes must be at least 1024") }
            if ringBytes != nil && triggerSpecs.isEmpty { throw ValidationError("--ring-bytes needs at least one --trigger") }
            if ringBytes == nil && !triggerSpecs.isEmpty { throw ValidationError("--trigger needs --ring-bytes") }
        }

        func makeTLS() throws -> ProxyTLS {
            do {
                return try ProxyTLS.make(
                    certificate: tlsCert, key: tlsKey, upstreamTLS: upstreamTls, upstreamCA: upstreamCa,
                    upstreamCertificate: upstreamCert, upstreamKey: upstreamKey)
            } catch {
                throw UsageError(error.description)
            }
        }

        func parsedTriggers() throws -> [FlightTrigger] {
            try triggerSpecs.map { spec in
                do { return try FlightTrigger(spec: spec) } catch { throw ValidationError("\(error)") }
            }
        }

        func parsedFaults() throws -> [ProxyFault] {
            try faultSpecs.map { spec in
                do { return try ProxyFault(spec: spec) } catch { throw ValidationError("\(error)") }
            }
        }

        func parsedUpstreamNodes() throws -> NodeAddressMap {
            do { return try NodeAddressMap(parsing: upstreamNodes, option: "--upstream-node") } catch {
                throw ValidationError(error.description)
            }
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
            // Everything from opening the capture to the summary runs inside the service group, so
            // SIGINT/SIGTERM are trapped before a listener opens or anything is announced.
            try await runUntilStopped { try await self.record() }
        }

        func record() async throws {
            guard let listenAddress = HostPort(listen), let upstreamAddress = HostPort(upstream) else { return }
            let config = ProxyConfiguration(
                listen: listenAddress, upstream: upstreamAddress, advertiseHost: advertiseHost,
                maxFrameBytes: maxFrameBytes, nodePorts: try parsedNodePorts(), upstreamNodes: try parsedUpstreamNodes(),
                keepCredentials: keepCredentials,
                faults: try parsedFaults(), seed: seed, ringBytes: ringBytes, triggers: try parsedTriggers(),
                tls: try makeTLS(), maxBufferedBytes: maxBufferedBytes,
                frameTimeoutMs: frameTimeout > 0 ? Int64(frameTimeout * 1000) : nil,
                idleTimeoutMs: idleTimeout > 0 ? Int64(idleTimeout * 1000) : nil)
            if !listenAddress.isLoopback {
                stderr("warning: listening on \(listenAddress), not loopback: the capture will contain the data of everyone who connects")
            }
            let header = CaptureHeader(
                toolVersion: "kafkatape \(KafkaTape.version)", startTime: SystemCaptureClock().now(),
                listenAddress: listenAddress.description, upstreamAddress: upstreamAddress.description)
            var sink: FileCaptureSink?
            let stopLatch = StopLatch()
            let policy = onCaptureError
            if let out, !noCapture {
                do {
                    sink = try FileCaptureSink(
                        path: out, header: header, rotateBytes: rotateBytes, overwrite: overwrite,
                        onError: { error in
                            if policy == .stop {
                                stderr("error: recording stopped: \(error); stopping the proxy (--on-capture-error stop)")
                                stopLatch.fire("capture error")
                            } else {
                                stderr("error: recording stopped: \(error); forwarding continues without capture")
                            }
                        }, publishLater: true, flushInterval: flushInterval)
                } catch {
                    throw UsageError(Self.createFailure(error, overwrite: overwrite))
                }
            }
            var logger = Logger(label: "kafkatape")
            logger.logLevel = .warning
            // The registry /metrics serves; without --metrics the proxy counts only for the summary.
            let registry = metrics == nil ? nil : PrometheusCollectorRegistry()
            let server = KafkaProxyServer(
                configuration: config, capture: sink, logger: logger, onWarning: { stderr($0) },
                metricsFactory: registry.map { MetricsServer.makeFactory(registry: $0) } ?? NOOPMetricsHandler.instance)
            do {
                try await server.start()
            } catch let error as NodeListenerError {
                try? sink?.close()
                throw UsageError(error.description)
            } catch {
                try? sink?.close()
                throw UsageError("cannot listen on \(listenAddress): \(error)")
            }
            var metricsServer: MetricsServer?
            if let metrics, let address = HostPort(metrics), let registry {
                if !address.isLoopback {
                    stderr("warning: --metrics on \(address), not loopback: anyone who can reach it sees the proxy's connections, APIs and byte counts")
                }
                do {
                    metricsServer = try await MetricsServer(
                        host: address.host, port: address.port, proxy: server, registry: registry, group: server.eventLoopGroup)
                    stderr("metrics: http://\(address.host):\(metricsServer?.port ?? address.port)/metrics")
                } catch {
                    await server.stop()
                    try? sink?.close()
                    throw UsageError("cannot serve metrics on \(address): \(error)")
                }
            }
            // Only now, with every listener up, does the capture replace what was at --out: a start that
            // failed above left it untouched (closing an unpublished capture removes it).
            do {
                try sink?.publish()
            } catch {
                await metricsServer?.stop()
                await server.stop()
                try? sink?.close()
                throw UsageError(Self.createFailure(error, overwrite: overwrite))
            }
            stderr("recording: listening on \(listenAddress.host):\(server.bootstrapPort), upstream \(upstreamAddress), capture \(out ?? "off")")
            do {
                try ready.announce(HostPort(host: config.effectiveAdvertiseHost, port: server.bootstrapPort).description)
            } catch {
                await server.stop()
                try? sink?.close()
                throw error
            }
            defer { ready.withdraw() }
            let reason = await stopLatch.wait()
            stderr("recording: \(reason), stopping")
            await metricsServer?.stop()
            await server.stop()
            var closeError: (any Error)?
            do { try sink?.close() } catch { closeError = error }
            printSummary(server.statistics.snapshot, sink: sink, nodePorts: server.nodePorts)
            let readable = "every record written before the failure is readable"
            if reason == "capture error" {
                throw UsageError("stopped because the capture could not be written (\(closeError.map { "\($0)" } ?? "write failed")); \(readable)")
            }
            if let closeError { throw UsageError("capture \(out ?? "") incomplete: \(closeError); \(readable)") }
        }

        /// One line for a capture that cannot be created or published.
        static func createFailure(_ error: CaptureError, overwrite: Bool) -> String {
            switch error.kind {
            case .fileExists where !overwrite:
                return "--out \(error.path ?? ""): file exists (use --overwrite to replace it)"
            case .locked:
                return "--out \(error.path ?? ""): another kafkatape is recording to it (the file is locked)"
            default:
                return "--out \(error)"
            }
        }

        func printSummary(_ s: ProxyStatistics.Snapshot, sink: FileCaptureSink?, nodePorts: [Int32: Int]) {
            print("connections: \(s.connections)")
            let requests = s.requestsByApi.sorted { $0.key < $1.key }
            print("requests: \(requests.reduce(0) { $0 + $1.value })")
            for (key, count) in requests {
                let name = KafkaAPIs.descriptor(apiKey: key)?.name ?? "apiKey\(key)"
                print("  \(name)(\(key)): \(count)")
            }
            print("bytes client->broker: \(s.bytesFromClients)")
            print("bytes broker->client: \(s.bytesFromBrokers)")
            if !nodePorts.isEmpty {
                print("node listeners: " + nodePorts.sorted { $0.key < $1.key }.map { "node \($0.key) -> port \($0.value)" }.joined(separator: ", "))
            }
            if s.malformedFrames > 0 { print("malformed frames: \(s.malformedFrames)") }
            if s.upstreamFailures > 0 { print("upstream connection failures: \(s.upstreamFailures)") }
            if s.faultsInjected > 0 { print("faults injected: \(s.faultsInjected)") }
            if ringBytes != nil { print("flight-recorder triggers: \(s.triggers)") }
            if let sink { print("capture: \(sink.writer.segmentPaths.joined(separator: ", ")) (\(sink.bytesWritten) bytes)") }
        }
    }
}

func stderr(_ line: String) {
    writeToStandardError("kafkatape: \(line)\n")
}
