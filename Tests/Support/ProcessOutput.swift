import Foundation

/// What a finished command left: its exit status and everything it printed.
struct ProcessOutput: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

extension Harness {
    /// Runs a command to completion (stdin from /dev/null); throws when it is still running after `timeout`.
    @discardableResult
    static func run(_ executable: String, _ args: [String], timeout: TimeInterval = 120) throws -> ProcessOutput {
        let child = try Daemon(executable, args, keepStdinOpen: false)
        guard let status = child.exitStatus(within: timeout) else {
            child.stop(signal: SIGTERM, timeout: 10)
            throw TestFailure("\(executable) \(args.joined(separator: " ")) timed out after \(timeout)s; stderr: \(child.stderr)")
        }
        return ProcessOutput(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    /// `run` on a background thread, so an async test does not hold one of the few cooperative threads
    /// while the command runs.
    @discardableResult
    static func runAsync(_ executable: String, _ args: [String], timeout: TimeInterval = 120) async throws -> ProcessOutput {
        try await withCheckedThrowingContinuation { continuation in
            // A thread of its own, not the global queue's (see `OutputCollector.collect`).
            Thread {
                continuation.resume(with: Result { try run(executable, args, timeout: timeout) })
            }.start()
        }
    }
}
