import Foundation

/// A child process whose output is collected, stopped by PID: a long-running one (a broker, `kafkatape
/// record`/`serve`/`sniff`, tcpdump) with its stdin kept open as a pipe, or a command `Harness.run` waits for.
final class Daemon: @unchecked Sendable {
    let process = Process()
    let collector = OutputCollector()
    let stdinPipe = Pipe()

    /// With `keepStdinOpen` false, stdin is /dev/null (for commands that would wait for input).
    init(_ executable: String, _ args: [String], keepStdinOpen: Bool = true) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = keepStdinOpen ? stdinPipe : FileHandle.nullDevice
        try process.run()
        collector.collect(out.fileHandleForReading, err.fileHandleForReading)
    }

    var stdout: String { collector.stdout }
    var stderr: String { collector.stderr }

    private var name: String { process.executableURL?.lastPathComponent ?? "?" }

    /// Waits until stdout or stderr matches `pattern`, returning the first capture group.
    func waitFor(_ pattern: String, inStderr: Bool = true, timeout: TimeInterval = 20) throws -> String {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = inStderr ? collector.stderr : collector.stdout
            if let m = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                if m.numberOfRanges > 1, let r = Range(m.range(at: 1), in: text) { return String(text[r]) }
                return ""
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw TestFailure("\(name) did not print /\(pattern)/; stdout: \(collector.stdout) stderr: \(collector.stderr)")
    }

    /// Polls `condition` until it holds; throws after `timeout` seconds or when the process has exited.
    func waitUntil(timeout: TimeInterval, _ condition: (Daemon) -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(self) {
            guard Date() < deadline, process.isRunning else {
                throw TestFailure("\(name) \(process.arguments?.joined(separator: " ") ?? ""): gave up waiting (stderr: \(stderr.suffix(500)))")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    /// SIGINT, the way a user stops kafkatape with Ctrl-C.
    func interrupt() {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
    }

    /// Writes `line` and a newline to the child's stdin with `write(2)`: a signal (EINTR) is retried,
    /// and a child that has gone (EPIPE) is the caller's to notice, where `FileHandle.write` would end
    /// the test process.
    func send(_ line: String) {
        var bytes = Array((line + "\n").utf8)[...]
        let fd = stdinPipe.fileHandleForWriting.fileDescriptor
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n > 0 { bytes = bytes.dropFirst(n) } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }

    /// Waits for the exit (SIGKILL after `timeout`) and returns the exit status.
    @discardableResult
    func wait(timeout: TimeInterval = 20) async -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        return finish()
    }

    /// The exit status, or nil when the process is still running after `timeout`.
    func exitStatus(within timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { return nil }
        collector.wait()
        return process.terminationStatus
    }

    /// Sends `signal` and waits for exit (SIGKILL after `timeout`); returns the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGINT, timeout: TimeInterval = 20, closeStdin: Bool = false) -> Int32 {
        // Children spawned from a test thread can inherit a blocked signal mask; closing stdin is the
        // broker wrapper's other way to stop.
        if closeStdin { try? stdinPipe.fileHandleForWriting.close() }
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return finish()
    }

    private func finish() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? stdinPipe.fileHandleForWriting.close()
        collector.wait()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
