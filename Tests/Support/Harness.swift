import Foundation
import KafkaCapture
import KafkaProtocol

/// Processes for end-to-end tests: the Tansu broker (through tools/kafkatape_testkit.py), the
/// kafkatape binary, and real Python clients. Everything listens on 127.0.0.1 and is stopped at the end.
enum Harness {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var kafkatape: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kafkatape").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        return root.appendingPathComponent(".build/debug/kafkatape").path
    }

    static var python: String {
        if let p = ProcessInfo.processInfo.environment["KAFKATAPE_PYTHON"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let venv = root.appendingPathComponent(".venv/bin/python3").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "/usr/bin/python3"
    }

    static var clientScript: String {
        root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/session.py").path
    }

    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: kafkatape) && FileManager.default.isExecutableFile(atPath: python)
    }

    static func freePort() -> Int {
        guard let socket = try? LoopbackSocket(listening: false) else { return 0 }
        defer { socket.close() }
        return socket.port
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = LoopbackSocket.address(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-e2e-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Runs a command to completion; returns exit status, stdout and stderr.
    @discardableResult
    static func run(_ executable: String, _ args: [String], timeout: TimeInterval = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let collector = OutputCollector()
        collector.collect(out.fileHandleForReading, err.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.terminate()
            p.waitUntilExit()
            throw HarnessError("\(executable) \(args.joined(separator: " ")) timed out after \(timeout)s; stderr: \(collector.stderr)")
        }
        p.waitUntilExit()
        collector.wait()
        return (p.terminationStatus, collector.stdout, collector.stderr)
    }

    /// `kafkatape replay CAPTURE --target 127.0.0.1:PORT --out REPLAYED` (which must succeed), then
    /// `kafkatape diff CAPTURE REPLAYED`. Returns the replayed capture's path and diff's result.
    static func replayAndDiff(_ capture: String, targetPort: Int) throws -> (replayed: String, diff: (status: Int32, stdout: String, stderr: String)) {
        let replayed = tempPath("replayed.ktape")
        let replay = try run(kafkatape, ["replay", capture, "--target", "127.0.0.1:\(targetPort)", "--out", replayed], timeout: 120)
        guard replay.status == 0 else { throw HarnessError("replay exited \(replay.status): \(replay.stderr.suffix(800))") }
        return (replayed, try run(kafkatape, ["diff", capture, replayed], timeout: 120))
    }

    /// Findings by invariant id (all of them, beyond --max-findings too) from `kafkatape check --json`.
    static func checkCounts(_ capture: String, skip: [String] = []) throws -> (status: Int32, counts: [String: Int]) {
        let r = try run(kafkatape, ["check", "--json", capture] + skip.flatMap { ["--skip", $0] }, timeout: 60)
        guard let obj = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
            let summary = obj["summary"] as? [String: Any], let counts = summary["byInvariant"] as? [String: Int]
        else { throw HarnessError("check printed no JSON (exit \(r.status)): \(r.stdout.prefix(300)) \(r.stderr.prefix(300))") }
        return (r.status, counts)
    }

    /// Reads every record of a capture.
    static func readCapture(_ path: String) throws -> (records: [CaptureRecord], reader: CaptureReader) {
        let reader = try CaptureReader(path: path)
        var records: [CaptureRecord] = []
        while let r = try reader.next() { records.append(r) }
        return (records, reader)
    }
}

/// A TCP socket bound to a free port on 127.0.0.1 (listening, or just holding the port).
final class LoopbackSocket {
    let fd: Int32
    let port: Int

    static func address(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return addr
    }

    init(listening: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = Self.address(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && (!listening || listen(fd, 1) == 0) && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else {
            Glibc.close(fd)
            throw HarnessError("cannot bind a loopback port: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}

/// Drains stdout and stderr of a process on background threads.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let group = DispatchGroup()

    func collect(_ stdout: FileHandle, _ stderr: FileHandle) {
        for (handle, isOut) in [(stdout, true), (stderr, false)] {
            group.enter()
            DispatchQueue.global().async {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    self.lock.lock()
                    if isOut { self.out.append(chunk) } else { self.err.append(chunk) }
                    self.lock.unlock()
                }
                self.group.leave()
            }
        }
    }

    func wait() { group.wait() }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}

/// A long-running child process whose output is collected, stopped with a signal.
final class Daemon: @unchecked Sendable {
    let process = Process()
    let collector = OutputCollector()
    let stdinPipe = Pipe()

    init(_ executable: String, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdinPipe
        try process.run()
        collector.collect(out.fileHandleForReading, err.fileHandleForReading)
    }

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
        throw HarnessError("\(process.executableURL?.lastPathComponent ?? "?") did not print /\(pattern)/; stdout: \(collector.stdout) stderr: \(collector.stderr)")
    }

    /// Sends `signal` and waits for exit; returns the exit status.
    @discardableResult
    func stop(signal: Int32 = SIGINT, timeout: TimeInterval = 20, closeStdin: Bool = false) -> Int32 {
        // Children spawned from a test thread can inherit a blocked signal mask; closing stdin is the
        // broker wrapper's other way to stop.
        if closeStdin { try? stdinPipe.fileHandleForWriting.close() }
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try? stdinPipe.fileHandleForWriting.close()
        collector.wait()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A Tansu broker on a loopback port (a free one unless `port` is given), for the duration of a test. With
/// `s3Endpoint` (a `MotoServer`'s) it stores its data there instead of in memory, so a restart keeps it.
final class TansuBroker {
    let daemon: Daemon
    let port: Int

    init(port requested: Int? = nil, s3Endpoint: String? = nil, advertisedPort: Int? = nil) throws {
        var args = [Harness.root.appendingPathComponent("tools/kafkatape_testkit.py").path, "tansu"]
        if let requested { args += ["--port", String(requested)] }
        if let advertisedPort { args += ["--advertised-port", String(advertisedPort)] }
        if let s3Endpoint { args += ["--s3-endpoint", s3Endpoint] }
        daemon = try Daemon(Harness.python, args)
        guard let p = Int(try daemon.waitFor(#"^(\d+)\s*$"#, inStderr: false)) else { throw HarnessError("no broker port") }
        port = p
    }

    func stop() { daemon.stop(signal: SIGTERM, closeStdin: true) }
}

/// A local S3 endpoint (moto_server) with an empty bucket `tansu`, through tools/kafkatape_testkit.py.
final class MotoServer {
    let daemon: Daemon
    let endpoint: String

    init() throws {
        daemon = try Daemon(Harness.python, [Harness.root.appendingPathComponent("tools/kafkatape_testkit.py").path, "moto"])
        endpoint = try daemon.waitFor(#"^(http://127\.0\.0\.1:\d+)\s*$"#, inStderr: false, timeout: 30)
    }

    func stop() { daemon.stop(signal: SIGTERM, closeStdin: true) }
}

/// `kafkatape record` in front of an upstream.
final class Recorder {
    let daemon: Daemon
    let port: Int
    let capture: String

    /// `shell`, when given, is a /bin/sh script run in front of the recorder (which it must `exec "$@"`),
    /// e.g. to set a resource limit.
    init(upstream: Int, capture: String, listenPort: Int = 0, extra: [String] = [], shell: String? = nil) throws {
        self.capture = capture
        let args = ["record", "--listen", "127.0.0.1:\(listenPort)", "--upstream", "127.0.0.1:\(upstream)", "--out", capture] + extra
        daemon = try shell.map { try Daemon("/bin/sh", ["-c", $0, "sh", Harness.kafkatape] + args) }
            ?? Daemon(Harness.kafkatape, args)
        guard let p = Int(try daemon.waitFor(#"listening on 127\.0\.0\.1:(\d+)"#)) else { throw HarnessError("no proxy port") }
        port = p
    }

    /// SIGINT, then the summary on stdout.
    func stop() -> (status: Int32, summary: String) {
        let status = daemon.stop(signal: SIGINT)
        return (status, daemon.collector.stdout)
    }
}

/// Go clients (sarama) from Tests/KafkaTapeEndToEndTests/clients/go, built once per test run
/// with Debian's Go toolchain and packages (tools/setup installs them).
enum GoClients {
    static let gopath = "/usr/share/gocode"
    static var go: String? {
        ["/usr/bin/go", "/usr/lib/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var available: Bool {
        go != nil && FileManager.default.fileExists(atPath: gopath + "/src/github.com/Shopify/sarama")
    }

    private static let built = NSLock()
    nonisolated(unsafe) private static var binaries: [String: String] = [:]

    /// The path of the built client `name` (`sarama_session`).
    static func binary(_ name: String) throws -> String {
        built.lock()
        defer { built.unlock() }
        if let b = binaries[name] { return b }
        guard let go else { throw HarnessError("go is not installed (tools/setup installs golang-go)") }
        let source = Harness.root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/go/\(name)").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-go-\(UUID().uuidString)-\(name)").path
        // GOPATH mode: Debian's golang-github-*-dev packages install the sources under /usr/share/gocode.
        let r = try Harness.run(
            "/bin/sh", ["-c", "cd \"$1\" && GO111MODULE=off GOPATH=\(gopath) GOCACHE=/tmp/kafkatape-gocache \"$2\" build -o \"$3\" .", "sh", source, go, out],
            timeout: 300)
        guard r.status == 0 else { throw HarnessError("go build \(name) failed: \(r.stderr.suffix(1500))") }
        binaries[name] = out
        return out
    }
}

/// A broker from tools/kafkatape_testkit.py's `broker` command: Tansu, or a whole SeaweedFS cluster
/// with its Kafka gateway and a stand-in Schema Registry, on free ports, stopped by PID. Driven over
/// stdin: `restart` (graceful) and `crash` (SIGKILL) bring it back on the same port and data.
final class ClusterBroker {
    enum Kind: String { case tansu, seaweedfs }

    let kind: Kind
    let version: String?
    let daemon: Daemon
    private(set) var port: Int
    private var readyLines = 0

    /// The weed binaries tools/setup installs.
    static func weedInstalled(_ version: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: Harness.root.appendingPathComponent(".venv/seaweedfs/\(version)/weed").path)
    }

    init(_ kind: Kind, version: String? = nil) throws {
        self.kind = kind
        self.version = version
        var args = [Harness.root.appendingPathComponent("tools/kafkatape_testkit.py").path, "broker", "--kind", kind.rawValue]
        if let version { args += ["--version", version] }
        daemon = try Daemon(Harness.python, args)
        port = 0
        port = try waitReady()
    }

    var bootstrap: String { "127.0.0.1:\(port)" }

    /// Where to connect for every node, whatever the gateway advertises (SeaweedFS says 127.0.0.1:9093).
    var nodeOverride: String { "*=127.0.0.1:\(port)" }

    private func waitReady(timeout: TimeInterval = 150) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let lines = daemon.collector.stdout.split(separator: "\n")
            if let error = lines.first(where: { $0.hasPrefix("error:") }) {
                throw HarnessError("\(kind.rawValue) \(version ?? ""): \(error); stderr: \(daemon.collector.stderr.suffix(2000))")
            }
            let ready = lines.filter { $0.hasPrefix("ready ") }
            if ready.count > readyLines, let last = ready.last, let p = last.split(separator: ":").last.flatMap({ Int($0) }) {
                readyLines = ready.count
                return p
            }
            if !daemon.process.isRunning { break }
            usleep(50_000)
        }
        throw HarnessError("\(kind.rawValue) \(version ?? "") did not come up: \(daemon.collector.stderr.suffix(2000))")
    }

    private func command(_ c: String) throws {
        daemon.stdinPipe.fileHandleForWriting.write(Data((c + "\n").utf8))
        let p = try waitReady()
        guard p == port else { throw HarnessError("\(kind.rawValue) came back on port \(p), not \(port)") }
    }

    /// SIGTERM everything, wait, start again on the same ports and data.
    func restart() throws { try command("restart") }

    /// SIGKILL everything, start again on the same ports and data.
    func crash() throws { try command("crash") }

    func stop() { daemon.stop(signal: SIGTERM, timeout: 60, closeStdin: true) }
}
