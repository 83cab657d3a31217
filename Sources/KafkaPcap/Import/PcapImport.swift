import KafkaCapture
import KafkaProtocol

/// Options for `PcapImport.run`.
public struct PcapImportOptions: Hashable, Sendable {
    /// Broker ports given by the user. Empty: Kafka's default port 9092, plus every port that
    /// carries Kafka-looking requests.
    public var brokerPorts: Set<UInt16>
    /// The largest frame accepted (the proxy's `--max-frame-bytes`).
    public var maxFrameBytes: Int
    /// Replace an existing output capture.
    public var overwrite: Bool
    /// Written into the capture header (`kafkatape 0.1.0`).
    public var toolVersion: String
    /// Limits of TCP reassembly.
    public var reassembly: TcpReassembler.Configuration

    /// Options; the defaults are those of `pcap import` without flags.
    public init(
        brokerPorts: Set<UInt16> = [], maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes, overwrite: Bool = false,
        toolVersion: String = "kafkatape", reassembly: TcpReassembler.Configuration = .init()
    ) {
        self.brokerPorts = brokerPorts
        self.maxFrameBytes = maxFrameBytes
        self.overwrite = overwrite
        self.toolVersion = toolVersion
        self.reassembly = reassembly
    }

    /// The importer configuration these options stand for.
    public var importerConfiguration: KafkaPcapImporter.Configuration {
        KafkaPcapImporter.Configuration(
            brokerPorts: brokerPorts.isEmpty ? [KafkaPcapImporter.Configuration.defaultBrokerPort] : brokerPorts,
            detectBrokerPorts: brokerPorts.isEmpty, reassembly: reassembly,
            splitting: KafkaStreamSplitter.Configuration(
                maxFrameBytes: maxFrameBytes, maxResyncFrameBytes: min(maxFrameBytes, 16 << 20)))
    }
}

/// How far an import has got, for a progress display.
public struct PcapImportProgress: Hashable, Sendable {
    /// Bytes of the input read so far.
    public var bytesRead: Int64
    /// The input's size, when it is a regular file.
    public var totalBytes: Int64?
    /// Packets read so far.
    public var packets: Int
    /// Frames written so far.
    public var frames: Int
    /// Time since the import started.
    public var elapsedSeconds: Double
}

/// What `PcapImport.run` did.
public struct PcapImportReport: Sendable {
    /// What was imported.
    public var statistics: PcapImportStatistics
    /// The input's link-layer header type.
    public var linkType: PcapLinkType
    /// Bytes of pcap read (the file size when it was read to the end).
    public var inputBytes: Int64
    /// How long the import took.
    public var elapsedSeconds: Double
    /// Bytes of capture written.
    public var captureBytes: Int64
    /// Reading stopped early at damage in the input; everything before it was imported.
    public var damage: PcapError?

    /// Input throughput in MB/s (10^6 bytes).
    public var megabytesPerSecond: Double {
        elapsedSeconds > 0 ? Double(inputBytes) / 1_000_000 / elapsedSeconds : 0
    }
}

/// `pcap import`: a pcap or pcapng file to a KafkaTape capture, streaming (memory stays bounded
/// whatever the file size).
public enum PcapImport {
    /// Imports `input` into a new capture at `output`.
    ///
    /// Throws `PcapError` when the input cannot be opened or uses an unsupported link type (before
    /// the output is created), `CaptureError` when the output cannot be created or written. Damage
    /// part-way through the input (a truncated file) does not throw: everything before it is
    /// imported and `damage` says where reading stopped.
    ///
    /// - Parameter progress: Called about five times a second with how far the import has got.
    public static func run(
        input: String, output: String, options: PcapImportOptions = PcapImportOptions(),
        progress: ((PcapImportProgress) -> Void)? = nil
    ) throws -> PcapImportReport {
        let clock = ContinuousClock()
        let started = clock.now
        let reader = try PcapFileReader(path: input)
        defer { reader.close() }
        guard reader.linkType.isSupported else {
            throw PcapError(.unsupportedLinkType(reader.linkType), source: input)
        }
        let decoder = PacketDecoder(linkType: reader.linkType)
        var damage: PcapError?
        // The first packet dates the capture; it stays valid until the next read.
        var first: PcapPacket?
        do {
            first = try reader.next()
        } catch {
            damage = error
        }
        let ports = options.brokerPorts.isEmpty ? "9092+detected" : options.brokerPorts.sorted().map(String.init).joined(separator: ",")
        let header = CaptureHeader(
            toolVersion: options.toolVersion,
            startTime: first.map { CaptureTimestamp(monotonicNs: UInt64(max(0, $0.timestampNs)), wallNs: $0.timestampNs) }
                ?? SystemCaptureClock().now(),
            listenAddress: "pcap:\(input)", upstreamAddress: "broker-ports:\(ports)")
        let writer = try CaptureWriter(path: output, header: header, overwrite: options.overwrite)
        let importer = KafkaPcapImporter(writer: writer, configuration: options.importerConfiguration)
        do {
            if let first { try importer.process(first, decoder: decoder) }
            var lastReport = started
            var count = 0
            while damage == nil {
                let packet: PcapPacket?
                do {
                    packet = try reader.next()
                } catch {
                    damage = error
                    break
                }
                guard let packet else { break }
                try importer.process(packet, decoder: decoder)
                count &+= 1
                if let progress, count & 1023 == 0 {
                    let now = clock.now
                    if now - lastReport >= .milliseconds(200) {
                        lastReport = now
                        progress(
                            PcapImportProgress(
                                bytesRead: reader.bytesRead ?? 0, totalBytes: reader.fileSize, packets: importer.statistics.packets,
                                frames: importer.statistics.frames, elapsedSeconds: seconds(now - started)))
                    }
                }
            }
            try importer.finish()
            try writer.close()
        } catch {
            try? writer.close()
            throw error
        }
        let inputBytes = damage == nil ? (reader.fileSize ?? reader.bytesRead ?? 0) : (reader.bytesRead ?? 0)
        return PcapImportReport(
            statistics: importer.statistics, linkType: reader.linkType, inputBytes: inputBytes,
            elapsedSeconds: seconds(clock.now - started), captureBytes: writer.bytesWritten, damage: damage)
    }
}

func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
}
