import ArgumentParser
import Foundation

/// `kafkatape`: capture, inspect and replay Kafka traffic.
///
/// Exit codes for every command: 0 success, 1 findings (diff/check), 2 usage or input error.
struct KafkaTape: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "kafkatape",
        abstract: "A transparent Kafka proxy that records every frame, and tools to read the captures.",
        discussion: """
            Exit codes: 0 success, 1 findings, 2 usage or input error (with a one-line message on stderr).
            """,
        version: version,
        subcommands: [
            Apis.self, Record.self, Dump.self, Stats.self, Replay.self, Serve.self, Diff.self, Matrix.self, Pcap.self, Sniff.self,
            Check.self, Report.self,
        ]
    )
}

/// A failure the user can fix: printed as one line on stderr, exit code 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}

/// Findings (diff/check): exit code 1 after the report was printed.
struct FindingsExit: Error {}

@main
enum Main {
    static func main() async {
        // A file-size limit (ulimit -f) must fail a capture write with EFBIG, which the writers report
        // like a full disk, instead of killing the proxy and every connection through it.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try KafkaTape.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as UsageError {
            writeToStandardError("kafkatape: \(error.description)\n")
            exit(2)
        } catch is FindingsExit {
            exit(1)
        } catch {
            let code = KafkaTape.exitCode(for: error)
            if code == .success {
                let message = KafkaTape.fullMessage(for: error)
                if !message.isEmpty { print(message) }
                exit(0)
            }
            if code == .validationFailure {
                // The parser's own text is the message, a usage block and sometimes a help line; people
                // and scripts get one line saying what is wrong and one pointing to --help.
                let command = invokedCommandPath()
                let message = KafkaTape.message(for: error).split(whereSeparator: \.isNewline).first.map(String.init) ?? "invalid arguments"
                let prefix = command.isEmpty ? "" : "\(command): "
                writeToStandardError("kafkatape: \(prefix)\(message)\n")
                writeToStandardError("kafkatape: see 'kafkatape \(command.isEmpty ? "" : command + " ")--help'\n")
                exit(2)
            }
            let message = KafkaTape.fullMessage(for: error)
            if !message.isEmpty { writeToStandardError((message + "\n")) }
            // Argument parser's usage errors (EX_USAGE 64) and every other failure map to 2.
            exit(code.rawValue == 1 ? 1 : 2)
        }
    }
}

/// The subcommand names at the start of the command line (`pcap export`), for error hints.
func invokedCommandPath() -> String {
    var names: [String] = []
    var current: [any ParsableCommand.Type] = KafkaTape.configuration.subcommands
    for argument in CommandLine.arguments.dropFirst() {
        guard let next = current.first(where: { $0._commandName == argument }) else { break }
        names.append(argument)
        current = next.configuration.subcommands
    }
    return names.joined(separator: " ")
}

/// Writes `text` to stderr with `write(2)`, retrying when a signal interrupts it and giving up quietly
/// when stderr is closed or a broken pipe. `FileHandle.standardError.write` ends the process with a
/// fatal error in both cases, which a diagnostic must never do.
func writeToStandardError(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if n > 0 { bytes = bytes.dropFirst(n) } else if n < 0 && errno == EINTR { continue } else { return }
    }
}
