import ArgumentParser
import Foundation
import KafkaCapture
import KafkaPcap
import KafkaProtocol
import ServiceLifecycle

extension KafkaTape {
    /// `kafkatape sniff`: live capture into a KafkaTape capture.
    struct Sniff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Capture Kafka traffic live on a network interface straight into a capture file.",
            discussion: """
                Captures TCP on the --port(s) with a BPF filter and reassembles it as `pcap import` does (reordering, \
                retransmissions, connections joined mid-way, gaps from dropped packets). Runs until SIGINT/SIGTERM or \
                --duration, then prints what it captured. Needs capture privileges: root, or CAP_NET_RAW and \
                CAP_NET_ADMIN (sudo setcap cap_net_raw,cap_net_admin=eip kafkatape).
                """)

        @Option(help: "Interface to capture on (lo, eth0, any).")
        var interface: String

        @Option(name: .customLong("port"), help: "Broker port (repeatable).")
        var ports: [Int] = [9092]

        @Option(help: "Capture file to create (mode 0600).")
        var out: String

        @Option(help: "Stop after this many seconds.")
        var duration: Double?

        @Option(help: "Largest frame accepted, in bytes.")
        var maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes

        @Flag(help: "Replace an existing capture file.")
        var overwrite = false

        func validate() throws {
            guard !ports.isEmpty else { throw ValidationError("give at least one --port") }
            for p in ports where !(1...65535).contains(p) { throw ValidationError("--port must be 1-65535, got \(p)") }
            if let duration, !(duration > 0 && duration < 1e9) { throw ValidationError("--duration must be a positive number of seconds") }
            guard maxFrameBytes > 0 else { throw ValidationError("--max-frame-bytes must be positive") }
        }

        func run() async throws {
            try await runUntilStopped { try await self.sniff() }
        }

        func sniff() async throws {
            let portSet = Set(ports.map { UInt16($0) })
            let filter = LiveSniff.filter(ports: Array(portSet))
            let capture: LiveCapture
            do {
                capture = try LiveCapture(interface: interface, filter: filter)
            } catch {
                throw UsageError("\(error)")
            }
            if let warning = capture.activationWarning { stderr("warning: \(interface): \(warning)") }
            stderr("sniffing on \(interface) (\(filter)) into \(out); stop with Ctrl-C" + (duration.map { " or after \($0) s" } ?? ""))
            let report: LiveSniffReport
            let (out, ports, duration, maxFrameBytes, overwrite) = (out, portSet, duration, maxFrameBytes, overwrite)
            do {
                // SIGINT/SIGTERM (a graceful shutdown of the group) breaks libpcap's loop; LiveSniff then
                // finishes the capture as after --duration.
                report = try await withGracefulShutdownHandler {
                    try await onOwnThread {
                        try LiveSniff.run(
                            capture: capture, output: out, brokerPorts: ports, durationSeconds: duration,
                            maxFrameBytes: maxFrameBytes, overwrite: overwrite, toolVersion: "kafkatape \(KafkaTape.version)")
                    }
                } onGracefulShutdown: {
                    capture.stop()
                }
            } catch let error as CaptureError {
                throw UsageError(error.path == nil ? "\(out): \(error)" : "\(error)")
            } catch {
                throw UsageError("\(error)")
            }
            capture.close()
            let s = report.statistics
            print("connections: \(s.connections)")
            print("frames: \(s.frames) (\(s.requests) requests, \(s.responses) responses, \(s.truncatedFrames) truncated)")
            print("gaps: \(s.gaps) (\(s.gapBytes) bytes missing)")
            print("bytes skipped: \(s.skippedBytes) (in \(s.resyncs) resynchronisations)")
            print("packets: \(s.packets) (\(s.tcpSegments) TCP)")
            if let k = report.kernel {
                print("kernel: \(k.received) received, \(k.dropped) dropped, \(k.interfaceDropped) dropped by the interface")
            }
            print("capture: \(out) (\(report.captureBytes) bytes)")
        }
    }
}
