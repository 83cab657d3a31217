import ArgumentParser
import Foundation
import KafkaReplay
import KafkaReport

extension KafkaTape {
    /// `kafkatape diff`: compare two captures exchange by exchange.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare two captures exchange by exchange, field by field.",
            discussion: """
                Exchanges are aligned first: connections by role (bootstrap or node N) and order, requests by order \
                within a connection (a request sent on one side only is reported as the request stream diverging). \
                Then decoded requests and responses are compared field by field. Arrays with a key (topic name, \
                partition index, node id, ... as Kafka's specs declare map keys; records by offset) are matched by \
                key, not position. Records are compared as decoded records (offset, timestamp, key, value, headers); \
                topics named only by id are compared by name, resolved through each capture's own Metadata.
                Paths look like Responses[Topic=orders].Partitions[PartitionIndex=0].HighWatermark. --ignore takes \
                patterns: '**.' matches any depth, 'Topics[]' any element, 'Topics[Name=orders]' one element, \
                arrays may be left out, and 'ApiName:', 'request:' or 'response:' in front narrow a pattern.
                Noise rules, on by default (--strict turns them off): values a broker assigns (and replay \
                carries forward) or a clock sets.
                \(NormalizationRules.defaultNoiseHelp)
                Output: for people, per differing exchange the path, the value in A and the value in B; --json one \
                JSON object for tools; --junit PATH writes JUnit XML for CI (one test case per exchange); --html PATH \
                writes a self-contained page with A and B side by side per exchange and the differing fields highlighted.
                Exit codes: 0 equivalent, 1 not equivalent, 2 bad input.
                """)

        @Argument(help: "The first capture (A).")
        var a: String

        @Argument(help: "The second capture (B).")
        var b: String

        @Flag(help: "Print one JSON object instead of the report for people.")
        var json = false

        @Option(help: "Also write JUnit XML here (one test case per exchange).")
        var junit: String?

        @Option(help: "Also write an HTML page here: A and B side by side per exchange, differing fields highlighted.")
        var html: String?

        @Flag(help: "Replace an existing --junit or --html file.")
        var overwrite = false

        @Option(name: .customLong("ignore"), help: "Leave this field path out of comparisons (repeatable).")
        var ignore: [String] = []

        @Flag(help: "Turn the default noise rules off.")
        var strict = false

        @Flag(help: "List equivalent exchanges and notes too.")
        var verbose = false

        func run() throws {
            var patterns: [FieldPattern] = []
            for text in ignore {
                do {
                    patterns.append(try FieldPattern(text))
                } catch {
                    throw UsageError("--ignore: \(error)")
                }
            }
            // Refuse before the (possibly long) comparison, not after it.
            if let junit { try refuseUnwritableOutput(junit, option: "--junit", overwrite: overwrite) }
            if let html { try refuseUnwritableOutput(html, option: "--html", overwrite: overwrite) }
            let captureA = try Self.load(a)
            let captureB = try Self.load(b)
            let differ = CaptureDiff(rules: .standard(ignoring: patterns, strict: strict))
            let equivalent: Bool
            if json || junit != nil || html != nil {
                // These outputs are whole documents built from the whole report.
                let report: DiffReport
                do {
                    report = try differ.compare(captureA, captureB)
                } catch {
                    throw UsageError(error.description)
                }
                print(json ? report.json() : report.text(verbose: verbose))
                if let junit {
                    try writeOutputFile(junit, option: "--junit", contents: Data(report.junitXML().utf8), overwrite: overwrite)
                }
                if let html {
                    // The page carries every exchange of both captures, so it reads them whole.
                    let sessionA: RecordedSession
                    let sessionB: RecordedSession
                    do {
                        sessionA = try RecordedSession.read(path: a)
                        sessionB = try RecordedSession.read(path: b)
                    } catch {
                        throw UsageError(error.description)
                    }
                    let page = DiffPage.html(report, a: sessionA, b: sessionB)
                    try writeOutputFile(html, option: "--html", contents: Data(page.utf8), overwrite: overwrite)
                }
                equivalent = report.isEquivalent
            } else {
                // The text report is printed as the comparison goes and nothing of it is kept, so
                // memory does not grow with the number of exchanges.
                for w in captureA.warnings { print("warning: A: \(w)") }
                for w in captureB.warnings { print("warning: B: \(w)") }
                var writer = DiffReport.TextWriter(verbose: verbose)
                let counts: DiffReport.Counts
                do {
                    counts = try differ.compare(captureA, captureB) { event in
                        for line in writer.lines(for: event) { print(line) }
                    }
                } catch {
                    throw UsageError(error.description)
                }
                print(DiffReport.summaryLine(counts, rules: differ.rules))
                equivalent = counts.isEquivalent
            }
            for capture in [captureA, captureB] where capture.corruptSpanCount > 0 {
                throw UsageError("\(capture.path): damaged: \(capture.corruptSpanCount) corrupt spans skipped; the comparison used every intact record")
            }
            if !equivalent { throw FindingsExit() }
        }

        /// Indexes a capture in one pass; its frames are read back pair by pair as the comparison goes,
        /// so memory does not grow with the capture.
        static func load(_ path: String) throws -> IndexedCapture {
            do {
                return try IndexedCapture(path: path)
            } catch {
                throw UsageError(error.description)
            }
        }
    }
}
