import KafkaCapture
import KafkaProtocol

/// What `LiveSniff.run` did.
public struct LiveSniffReport: Sendable {
    /// What was imported.
    public var statistics: PcapImportStatistics
    /// Bytes of capture written.
    public var captureBytes: Int64
    /// How long the capture ran.
    public var elapsedSeconds: Double
    /// Kernel counters at the end (dropped packets show up as gaps).
    public var kernel: LiveCapture.Statistics?
}

/// `sniff`: live capture on an interface, through the same reassembly as `pcap import`, straight
/// into a capture file.
public enum LiveSniff {
    /// The BPF filter for the broker ports: `tcp and (port 9092 or port 19092)`.
    public static func filter(ports: [UInt16]) -> String {
        "tcp and (" + ports.sorted().map { "port \($0)" }.joined(separator: " or ") + ")"
    }

    /// Reads packets from `capture` into a new capture at `output` until `capture.stop()` is
    /// called or `durationSeconds` pass, then flushes every stream and closes the file. Records reach
    /// the file at least once a second, so a killed sniffer loses at most the last second.
    ///
    /// Throws `CaptureError` when the output cannot be created or written, `PcapError` when the
    /// capture fails.
    public static func run(
        capture: LiveCapture, output: String, brokerPorts: Set<UInt16>, durationSeconds: Double?,
        maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes, overwrite: Bool = false, toolVersion: String = "kafkatape"
    ) throws -> LiveSniffReport {
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = durationSeconds.map { started + .nanoseconds(Int64(min(max($0, 0), 1e9) * 1e9)) }
        let header = CaptureHeader(
            toolVersion: toolVersion, startTime: SystemCaptureClock().now(), listenAddress: "sniff:\(capture.interface)",
            upstreamAddress: "broker-ports:" + brokerPorts.sorted().map(String.init).joined(separator: ","))
        let writer = try CaptureWriter(path: output, header: header, overwrite: overwrite)
        let configuration = KafkaPcapImporter.Configuration(
            brokerPorts: brokerPorts, detectBrokerPorts: false,
            splitting: KafkaStreamSplitter.Configuration(maxFrameBytes: maxFrameBytes, maxResyncFrameBytes: min(maxFrameBytes, 16 << 20)))
        let importer = KafkaPcapImporter(writer: writer, configuration: configuration)
        let decoder = PacketDecoder(linkType: capture.linkType)
        var lastFlush = started
        do {
            loop: while true {
                if let deadline, clock.now >= deadline { break }
                switch try capture.next() {
                case .packet(let packet):
                    try importer.process(packet, decoder: decoder)
                case .timeout:
                    break
                case .stopped:
                    break loop
                }
                let now = clock.now
                if now - lastFlush >= .seconds(1) {
                    lastFlush = now
                    try writer.flush()
                }
            }
            try importer.finish()
            try writer.close()
        } catch {
            try? importer.finish()
            try? writer.close()
            throw error
        }
        return LiveSniffReport(
            statistics: importer.statistics, captureBytes: writer.bytesWritten, elapsedSeconds: seconds(clock.now - started),
            kernel: capture.statistics())
    }
}
