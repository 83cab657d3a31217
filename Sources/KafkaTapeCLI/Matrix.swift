import ArgumentParser
import Foundation
import KafkaEndpoints
import KafkaReplay
import KafkaReport
import Logging

extension KafkaTape {
    /// `kafkatape matrix`: one capture replayed against several targets, diffed against the
    /// recording and against each other.
    struct Matrix: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay one capture against several targets and show which agree with the recording.",
            discussion: """
                Each --target NAME=HOST:PORT (a fresh broker, a gateway version) gets the capture's client side \
                replayed against it, one target after the other, exactly as `kafkatape replay` does. Each run is \
                diffed against the recording and against every other run, with the noise rules of `kafkatape diff`.
                The table shows per API how many exchanges of each target differ from the recording (= for none); \
                then every group of differing exchanges (same API, each target's first differing field the same) \
                with what each target did; then the targets against each other.
                --target-node NODE=HOST:PORT reaches a node of every target at another address; scope it to one \
                target with NAME:NODE=HOST:PORT (a gateway that advertises an address you cannot reach, such as \
                SeaweedFS's 127.0.0.1:9093: --target-node 'v448:*=127.0.0.1:PORT').
                --out DIR keeps each run as DIR/NAME.ktape, to dump, check and diff. --html FILE writes a self-contained \
                page: the table, then each target's exchanges beside the recording's, differing fields highlighted.
                Exit codes: 0 every target completed its replay and matches the recording, 1 at least one differs \
                (or could not complete its replay), 2 bad input.
                """)

        @Argument(help: "The capture to replay.")
        var capture: String

        @Option(name: .customLong("target"), help: ArgumentHelp("A target, NAME=HOST:PORT (repeatable, at least one).", valueName: "NAME=HOST:PORT"))
        var targets: [String] = []

        @Option(
            name: .customLong("target-node"),
            help: ArgumentHelp(
                "Reach node NODE (a node id or *) at HOST:PORT instead of what the target advertises; NAME: in front scopes it to one target (repeatable).",
                valueName: "[NAME:]NODE=HOST:PORT"))
        var targetNodes: [String] = []

        @Flag(help: "Print one JSON object instead of the table.")
        var json = false

        @Option(help: "Keep each run's capture as DIR/NAME.ktape.")
        var out: String?

        @Option(help: "Also write an HTML page here: the table, and each target's replay beside the recording, differing fields highlighted.")
        var html: String?

        @Flag(help: "Replace existing run captures in --out and an existing --html file.")
        var overwrite = false

        @Option(help: "fast, original, or a speed factor (as for replay).")
        var pace = "fast"

        @Option(help: "Seconds a request may wait for its answer before a replay gives up.")
        var timeout: Double = 30

        @Flag(help: "Turn the default noise rules off.")
        var strict = false

        @Option(name: .customLong("ignore"), help: "Leave this field path out of comparisons (repeatable, as for diff).")
        var ignore: [String] = []

        func validate() throws {
            _ = try parsedTargets()
            guard ReplayPace(pace) != nil else {
                throw ValidationError("--pace must be fast, original or a factor from 0.001 to 1000000, got '\(pace)'")
            }
            guard timeout.isFinite, timeout > 0, timeout <= 86_400 else {
                throw ValidationError("--timeout must be a number of seconds between 0 and 86400, got '\(timeout)'")
            }
        }

        func parsedTargets() throws -> [MatrixRunner.Target] {
            guard !targets.isEmpty else { throw ValidationError("give at least one --target NAME=HOST:PORT") }
            var result: [MatrixRunner.Target] = []
            for spec in targets {
                guard let eq = spec.firstIndex(of: "="), let address = HostPort(String(spec[spec.index(after: eq)...])),
                    address.port > 0
                else { throw ValidationError("--target must be NAME=HOST:PORT, got '\(spec)'") }
                let name = String(spec[..<eq])
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                    throw ValidationError("--target: a name is letters, digits, '-', '_' and '.', got '\(name)'")
                }
                guard !result.contains(where: { $0.name == name }) else {
                    throw ValidationError("--target: the name '\(name)' is given twice")
                }
                result.append(MatrixRunner.Target(name: name, address: address))
            }
            var shared: [String] = []
            var scoped: [String: [String]] = [:]
            for spec in targetNodes {
                let left = spec.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                if let colon = left.firstIndex(of: ":") {
                    let name = String(left[..<colon])
                    guard result.contains(where: { $0.name == name }) else {
                        throw ValidationError("--target-node '\(spec)': no --target is named '\(name)'")
                    }
                    scoped[name, default: []].append(String(spec[spec.index(after: colon)...]))
                } else {
                    shared.append(spec)
                }
            }
            for i in result.indices {
                do {
                    result[i].nodes = try NodeAddressMap(
                        parsing: shared + (scoped[result[i].name] ?? []), option: "--target-node")
                } catch {
                    throw ValidationError(error.description)
                }
            }
            return result
        }

        func run() async throws {
            let parsed = try parsedTargets()
            guard let replayPace = ReplayPace(pace) else { return }
            var patterns: [FieldPattern] = []
            for text in ignore {
                do { patterns.append(try FieldPattern(text)) } catch { throw UsageError("--ignore: \(error)") }
            }
            let recording: RecordedSession
            do {
                recording = try RecordedSession.read(path: capture)
            } catch {
                throw UsageError(error.description)
            }
            for w in recording.warnings { stderr("warning: \(w)") }
            if let out {
                for t in parsed where !overwrite && FileManager.default.fileExists(atPath: out + "/" + t.name + ".ktape") {
                    throw UsageError("\(out)/\(t.name).ktape exists (use --overwrite to replace it)")
                }
            }
            // Refuse before the (long) live replays, not after them.
            if let html { try refuseUnwritableOutput(html, option: "--html", overwrite: overwrite) }
            var logger = Logger(label: "kafkatape")
            logger.logLevel = .warning
            let runner = MatrixRunner(
                capturePath: capture, targets: parsed,
                replay: ReplayConfiguration(
                    target: parsed[0].address, pace: replayPace, responseTimeoutMs: Int64(timeout * 1000)),
                rules: .standard(ignoring: patterns, strict: strict), outputDirectory: out, overwrite: overwrite, logger: logger)
            let matrix: VersionMatrix
            do {
                matrix = try await runner.run(recording: recording, progress: { stderr($0) })
            } catch {
                throw UsageError("matrix: \(error)")
            }
            print(json ? matrix.json() : matrix.text())
            if let html {
                let page = DiffPage.html(matrix, recording: recording)
                try writeOutputFile(html, option: "--html", contents: Data(page.utf8), overwrite: overwrite)
            }
            if !matrix.allMatch { throw FindingsExit() }
        }
    }
}
