import ArgumentParser
import Foundation
import KafkaCapture
import KafkaPcap
import KafkaProtocol

extension KafkaTape {
    /// `kafkatape pcap`: export captures for Wireshark, import tcpdump captures.
    struct Pcap: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert between KafkaTape captures and pcap files (Wireshark, tcpdump).",
            subcommands: [Export.self, Import.self])

        /// `kafkatape pcap export CAPTURE OUT.pcap`
        struct Export: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a capture as a pcap file that Wireshark and tshark decode as Kafka.",
                discussion: """
                    Each connection becomes a TCP flow between its recorded client and listener addresses (127.0.0.1 with \
                    distinct ports where they are missing), with a handshake, consistent sequence and acknowledgement \
                    numbers, frames split into segments of at most --mss bytes, FINs at close and the capture's timestamps. \
                    Decode with: tshark -r OUT.pcap -d tcp.port==PORT,kafka (the ports are printed). \
                    Redacted frames are written as recorded (the marker, with a matching size prefix).
                    """)

            @Argument(help: "Capture file (the first segment of a rotated capture).")
            var capture: String

            @Argument(help: "pcap file to create (mode 0600).")
            var output: String

            @Option(help: "Largest TCP payload per packet.")
            var mss: Int = 1460

            @Flag(help: "Replace an existing pcap file.")
            var overwrite = false

            func validate() throws {
                guard (64...65000).contains(mss) else { throw ValidationError("--mss must be between 64 and 65000") }
            }

            func run() throws {
                let report: PcapExportReport
                do {
                    report = try PcapExport.run(capture: capture, output: output, mss: mss, overwrite: overwrite)
                } catch let error as CaptureError {
                    throw UsageError(error.path == nil ? "\(capture): \(error)" : "\(error)")
                } catch {
                    throw UsageError("\(error)")
                }
                for span in report.corruptSpans { stderr("warning: \(span)") }
                if let torn = report.tornTail {
                    stderr("warning: \(torn) — every record before it was exported")
                }
                let s = report.statistics
                print("flows: \(s.flows)")
                print("frames: \(s.frames)")
                print("packets: \(s.packets)")
                print("pcap: \(output) (\(report.pcapBytes) bytes)")
                if !s.serverPorts.isEmpty {
                    let decode = s.serverPorts.sorted().map { "-d tcp.port==\($0),kafka" }.joined(separator: " ")
                    print("decode with: tshark -r \(output) \(decode)")
                }
                let bad = report.corruptSpanCount + (report.tornTail?.kind == .corruption ? 1 : 0)
                if bad > 0 {
                    throw UsageError("\(capture): damaged: \(bad) corrupt span\(bad == 1 ? "" : "s") skipped; every intact record was exported")
                }
            }
        }

        /// `kafkatape pcap import IN.pcap OUT [--port N]...`
        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a pcap or pcapng file (tcpdump, Wireshark) into a capture.",
                discussion: """
                    Reads pcap and pcapng; link types Ethernet (with VLAN tags), Linux cooked (SLL, SLL2), raw IP and BSD \
                    loopback; IPv4 and IPv6. Each direction of each Kafka connection is reassembled (reordering, \
                    retransmissions, overlaps) and split into frames. A connection joined mid-way is resynchronised on the \
                    first plausible frame boundary; bytes the capture lost become gap events, never invented bytes. \
                    The broker side of a connection is the one on a --port, else the one that answers.
                    Without --port: port 9092 plus every port that carries Kafka-looking requests. \
                    Prints connections, frames, gaps, bytes skipped and the import speed; shows progress on a terminal.
                    A damaged or truncated input keeps everything before the damage and exits with status 2.
                    """)

            @Argument(help: "pcap or pcapng file.")
            var input: String

            @Argument(help: "Capture file to create (mode 0600).")
            var output: String

            @Option(name: .customLong("port"), help: "Broker port (repeatable). Default: 9092 plus detected ports.")
            var ports: [Int] = []

            @Option(help: "Largest frame accepted, in bytes; a larger size prefix is treated as lost framing.")
            var maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes

            @Flag(help: "Replace an existing capture file.")
            var overwrite = false

            func validate() throws {
                for p in ports where !(1...65535).contains(p) { throw ValidationError("--port must be 1-65535, got \(p)") }
                guard maxFrameBytes > 0 else { throw ValidationError("--max-frame-bytes must be positive") }
            }

            func run() throws {
                let options = PcapImportOptions(
                    brokerPorts: Set(ports.map { UInt16($0) }), maxFrameBytes: maxFrameBytes, overwrite: overwrite,
                    toolVersion: "kafkatape \(KafkaTape.version)")
                let showProgress = isatty(STDERR_FILENO) == 1
                let report: PcapImportReport
                do {
                    report = try PcapImport.run(
                        input: input, output: output, options: options,
                        progress: showProgress ? { Self.showProgress($0, input: input) } : nil)
                } catch let error as CaptureError {
                    if showProgress { clearProgressLine() }
                    throw UsageError(error.path == nil ? "\(output): \(error)" : "\(error)")
                } catch {
                    if showProgress { clearProgressLine() }
                    throw UsageError("\(error)")
                }
                if showProgress { clearProgressLine() }
                printSummary(report)
                if let damage = report.damage {
                    throw UsageError("\(damage); everything before it was imported into \(output)")
                }
            }

            func printSummary(_ r: PcapImportReport) {
                let s = r.statistics
                print("connections: \(s.connections)")
                print("frames: \(s.frames) (\(s.requests) requests, \(s.responses) responses, \(s.truncatedFrames) truncated)")
                print("gaps: \(s.gaps) (\(s.gapBytes) bytes missing)")
                print("bytes skipped: \(s.skippedBytes) (in \(s.resyncs) resynchronisations)")
                var packets = "packets: \(s.packets) (\(s.tcpSegments) TCP"
                let skipped = s.skippedPackets.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key)" }
                if !skipped.isEmpty { packets += "; skipped: " + skipped.joined(separator: ", ") }
                print(packets + ")")
                if s.duplicateBytes > 0 || s.outOfOrderSegments > 0 {
                    print("retransmitted bytes: \(s.duplicateBytes), out-of-order segments: \(s.outOfOrderSegments)")
                }
                var ports = "broker ports: " + (ports.isEmpty ? "9092" : ports.sorted().map(String.init).joined(separator: ", "))
                if !s.detectedBrokerPorts.isEmpty {
                    ports += " (detected: " + s.detectedBrokerPorts.sorted().map(String.init).joined(separator: ", ") + ")"
                }
                print(ports)
                if s.ignoredFlows > 0 { print("non-Kafka TCP flows ignored: \(s.ignoredFlows)") }
                print("link type: \(r.linkType)")
                print(String(format: "read %.1f MB in %.2f s: %.1f MB/s", Double(r.inputBytes) / 1e6, r.elapsedSeconds, r.megabytesPerSecond))
                print("capture: \(output) (\(r.captureBytes) bytes)")
            }

            static func showProgress(_ p: PcapImportProgress, input: String) {
                let mb = Double(p.bytesRead) / 1e6
                let rate = p.elapsedSeconds > 0 ? mb / p.elapsedSeconds : 0
                var line = "importing \(input): "
                if let total = p.totalBytes, total > 0 {
                    line += String(format: "%3.0f%% (%.1f of %.1f MB)", min(100, Double(p.bytesRead) * 100 / Double(total)), mb, Double(total) / 1e6)
                } else {
                    line += String(format: "%.1f MB", mb)
                }
                line += String(format: ", %d frames, %.1f MB/s", p.frames, rate)
                writeToStandardError("\r\u{1B}[K\(line)")
            }
        }
    }
}

func clearProgressLine() {
    writeToStandardError("\r\u{1B}[K")
}
