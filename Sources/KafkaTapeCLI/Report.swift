import ArgumentParser
import Foundation
import KafkaCapture
import KafkaCheck
import KafkaReport

extension KafkaTape {
    /// `kafkatape report`: one self-contained HTML page of a capture.
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a capture as one self-contained HTML page: a timeline per connection, latency per API, findings.",
            discussion: """
                The page has everything inline (styles, script, data): open it in a browser, attach it to a ticket; \
                it fetches nothing. It shows a timeline per connection (each exchange a bar from request to \
                response, coloured by API, error answers marked in red, rewrites, faults and disconnects as \
                markers; wheel zooms, drag pans), the decoded request and response of the exchange you click (the \
                JSON of `dump --json`), per-API latency p50/p99/max and error counts (what `stats` says), and filters \
                by connection, API and text in the decoded fields. With --check, the findings of `kafkatape check` \
                are listed, each linked to its exchanges on the timeline.
                The page draws only what is on screen, so it stays usable with 100,000 exchanges; its size is about \
                that of `dump --json` (the decoded exchanges are embedded as those lines).
                --out defaults to the capture's path with .html in place of .ktape (session.ktape -> session.html); \
                an existing file is replaced only with --overwrite. The path written is printed.
                Exit codes: 0 written (findings do not change it), 2 bad input.
                """)

        @Argument(help: "Capture file (the first segment of a rotated capture).")
        var path: String?

        @Option(help: "Where to write the page (default: CAPTURE with .html for .ktape).")
        var out: String?

        @Flag(help: "Also run `kafkatape check` and list its findings, linked to their exchanges.")
        var check = false

        @Option(help: "With --check: skip these invariants, comma-separated or repeated (I16 or 16).")
        var skip: [String] = []

        @Option(help: "With --check: findings listed per invariant (the rest are counted); 0 lists all.")
        var maxFindings: Int = CheckConfiguration.defaultMaxFindingsPerInvariant

        @Flag(help: "Replace an existing --out file.")
        var overwrite = false

        /// tools/bench-report: write a synthetic capture of about this many exchanges instead.
        @Option(help: .hidden)
        var benchGenerate: String?

        @Option(help: .hidden)
        var benchExchanges: Int = 1000

        @Option(help: .hidden)
        var benchValueBytes: Int = 100

        @Option(help: .hidden)
        var benchRecordsPerBatch: Int = 1

        func validate() throws {
            if benchGenerate == nil && path == nil { throw ValidationError("missing capture file") }
            if benchExchanges < 1 || benchValueBytes < 1 || benchRecordsPerBatch < 1 {
                throw ValidationError("--bench-exchanges, --bench-value-bytes and --bench-records-per-batch must be positive")
            }
            if maxFindings < 0 { throw ValidationError("--max-findings must not be negative") }
            if !check && !skip.isEmpty { throw ValidationError("--skip needs --check") }
        }

        /// `session.ktape` -> `session.html`; other names get `.html` appended.
        static func defaultOutput(for capture: String) -> String {
            capture.hasSuffix(".ktape") ? String(capture.dropLast(".ktape".count)) + ".html" : capture + ".html"
        }

        func run() throws {
            if let benchGenerate {
                do {
                    let n = try SyntheticCapture.write(
                        path: benchGenerate, exchanges: benchExchanges, valueBytes: benchValueBytes...benchValueBytes,
                        recordsPerBatch: benchRecordsPerBatch)
                    print("wrote \(n) exchanges to \(benchGenerate)")
                } catch {
                    throw UsageError("cannot write \(benchGenerate): \(error)")
                }
                return
            }
            guard let path else { throw UsageError("missing capture file") }
            let target = out ?? Self.defaultOutput(for: path)
            // Refuse before reading the capture, not after.
            try refuseUnwritableOutput(target, option: "--out", overwrite: overwrite)
            var engine: CheckEngine?
            if check {
                let enabled: Set<InvariantID>
                do {
                    enabled = try CheckConfiguration.selection(only: [], skip: skip)
                } catch {
                    throw UsageError(error.description)
                }
                engine = CheckEngine(configuration: CheckConfiguration(enabled: enabled, maxFindingsPerInvariant: maxFindings))
            }
            let reader = try openCapture(path)
            var report = CaptureReport(capturePath: path)
            try forEachRecord(reader, path: path) { record in
                report.process(record)
                engine?.process(record)
            }
            report.finish(tornTail: reader.tornTail.map { "\($0)" })
            if let torn = reader.tornTail { engine?.context.note("the capture has a torn tail (\(torn)); records after it were not checked") }
            if reader.corruptSpanCount > 0 {
                engine?.context.note("the capture has \(reader.corruptSpanCount) corrupt spans (\(reader.corruptBytes) bytes) that were skipped; records in them were not checked")
            }
            let page = report.html(check: engine?.finish())
            try writeOutputFile(target, option: "--out", contents: Data(page.utf8), overwrite: overwrite)
            print(target)
            try failIfDamaged(reader, path: path)
        }
    }
}
