import KafkaCapture

/// What `PcapExport.run` did.
public struct PcapExportReport: Sendable {
    /// What was exported.
    public var statistics: PcapExporter.Statistics
    /// Where the capture was damaged, if it was (every record before it was exported).
    public var tornTail: TornTail?
    /// Damaged spans in the middle of the capture that were skipped (the first ones, see
    /// `CaptureReader.corruptSpans`), and how many there were in all.
    public var corruptSpans: [CorruptSpan] = []
    public var corruptSpanCount = 0
    /// Size of the pcap file written.
    public var pcapBytes: Int64
}

/// `pcap export`: a KafkaTape capture to a pcap file Wireshark and tshark decode as Kafka.
public enum PcapExport {
    /// Exports the capture at `capture` (all its segments) to a new pcap file at `output`.
    ///
    /// Throws `CaptureError` when the capture cannot be opened or read, `PcapError` when the
    /// output cannot be created or written.
    public static func run(capture: String, output: String, mss: Int = 1460, overwrite: Bool = false) throws -> PcapExportReport {
        let reader = try CaptureReader(path: capture)
        defer { reader.close() }
        let writer = try PcapFileWriter(path: output, linkType: .ethernet, overwrite: overwrite)
        let exporter = PcapExporter(writer: writer, mss: mss)
        do {
            while let record = try reader.next() {
                exporter.process(record)
            }
            exporter.finish()
            try writer.close()
        } catch {
            try? writer.close()
            throw error
        }
        let headerBytes = Int64(24 + 16 * exporter.statistics.packets)
        return PcapExportReport(
            statistics: exporter.statistics, tornTail: reader.tornTail, corruptSpans: reader.corruptSpans,
            corruptSpanCount: reader.corruptSpanCount, pcapBytes: headerBytes + writer.byteCount)
    }
}
