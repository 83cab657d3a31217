import ArgumentParser
import KafkaCapture
import KafkaCheck

extension KafkaTape {
    /// `kafkatape check`: protocol invariants over a capture.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a capture against Kafka protocol invariants (I1-I\(InvariantCatalog.all.count)); exit 1 when any is violated.",
            discussion: """
                Reads the capture once and reports every violation with the invariant's id, a one-sentence \
                explanation and the exchanges involved (connection, correlation id, time), with the \
                `kafkatape dump CAPTURE --connection N` command that shows them. Findings are about what the \
                client saw: frames as captured (a staged fault's bytes included); broker addresses as rewritten \
                by the proxy.
                --json prints one JSON object: {capture, clean, summary {findings, byInvariant, exchanges, \
                connections, records, frameBytes}, checked, findings [{id, title, level, message, summary (when set), exchanges \
                [{connection, correlationId, apiName, timeNs}], details}], notes}.
                Exit codes: 0 no findings, 1 findings, 2 bad input (unreadable capture, unknown invariant id).

                Invariants (details in docs/check.md; lint-level ones also exit 1):
                \(InvariantCatalog.helpText())
                """)

        @Argument(help: "Capture file (the first segment of a rotated capture).")
        var path: String?

        @Flag(help: "Print one JSON object instead of text.")
        var json = false

        @Option(help: "Only these invariants, comma-separated or repeated (I1,I7 or 1,7).")
        var only: [String] = []

        @Option(help: "Skip these invariants, comma-separated or repeated.")
        var skip: [String] = []

        @Option(help: "I21: how much longer than max_wait_ms (plus throttle time) a Fetch may take, in ms.")
        var fetchMarginMs: Int64 = CheckConfiguration.defaultFetchMarginMs

        @Option(help: "I21: how long a Fetch may take when data was already available at its offset, in ms.")
        var fetchPromptMs: Int64 = CheckConfiguration.defaultFetchPromptMs

        @Option(help: "Findings listed per invariant (the rest are counted); 0 lists all.")
        var maxFindings: Int = CheckConfiguration.defaultMaxFindingsPerInvariant

        @Option(help: "I28: identical unhelpful answers in a row that make a client stuck.")
        var stuckRepeats: Int = CheckConfiguration.defaultStuckRepeats

        @Option(help: .hidden)
        var benchGenerate: String?

        @Option(help: .hidden)
        var bytes: Int64 = 100 << 20

        @Option(help: .hidden)
        var benchValueBytes: Int = 700

        /// With --bench-generate: write this many acks=0 Produce requests instead (the linearity benchmark).
        @Option(help: .hidden)
        var benchAcksZero: Int?

        @Option(help: .hidden)
        var benchRecordsPerBatch: Int = 50

        func validate() throws {
            if benchGenerate == nil && path == nil { throw ValidationError("missing capture file") }
            if fetchMarginMs < 0 || fetchPromptMs < 0 { throw ValidationError("--fetch-margin-ms and --fetch-prompt-ms must not be negative") }
            if maxFindings < 0 { throw ValidationError("--max-findings must not be negative") }
            if stuckRepeats < 2 { throw ValidationError("--stuck-repeats must be at least 2") }
            if benchValueBytes < 1 { throw ValidationError("--bench-value-bytes must be positive") }
            if benchRecordsPerBatch < 1 { throw ValidationError("--bench-records-per-batch must be positive") }
        }

        func run() throws {
            if let target = benchGenerate, let n = benchAcksZero {
                do {
                    let written = try SyntheticCapture.writeAcksZero(path: target, requests: n)
                    print("wrote \(written) bytes to \(target)")
                } catch {
                    throw UsageError("cannot write \(target): \(error)")
                }
                return
            }
            if let target = benchGenerate {
                do {
                    // Values uniformly spread over [v/3.5, v*1.7] (the default 700 gives 200...1200).
                    let low = max(1, benchValueBytes * 2 / 7)
                    let written = try SyntheticCapture.write(
                        path: target, bytes: bytes, valueBytes: low...max(low, benchValueBytes * 12 / 7),
                        recordsPerBatch: benchRecordsPerBatch)
                    print("wrote \(written) bytes to \(target)")
                } catch {
                    throw UsageError("cannot write \(target): \(error)")
                }
                return
            }
            guard let path else { throw UsageError("missing capture file") }
            let enabled: Set<InvariantID>
            do {
                enabled = try CheckConfiguration.selection(only: only, skip: skip)
            } catch {
                throw UsageError(error.description)
            }
            let configuration = CheckConfiguration(
                enabled: enabled, fetchMarginMs: fetchMarginMs, fetchPromptMs: fetchPromptMs,
                maxFindingsPerInvariant: maxFindings, stuckRepeats: stuckRepeats)
            let reader = try openCapture(path)
            let engine = CheckEngine(configuration: configuration)
            try forEachRecord(reader, path: path) { engine.process($0) }
            if let torn = reader.tornTail { engine.context.note("the capture has a torn tail (\(torn)); records after it were not checked") }
            if reader.corruptSpanCount > 0 {
                engine.context.note("the capture has \(reader.corruptSpanCount) corrupt spans (\(reader.corruptBytes) bytes) that were skipped; records in them were not checked")
            }
            let report = engine.finish()
            print(json ? report.json(capturePath: path) : report.text(capturePath: path))
            // Damage outranks findings: a finding may come from the records the damage took.
            try failIfDamaged(reader, path: path)
            if !report.isClean { throw FindingsExit() }
        }
    }
}
