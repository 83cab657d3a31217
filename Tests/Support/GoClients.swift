import Foundation

/// Go clients (sarama, kafka-go) from Tests/KafkaTapeEndToEndTests/clients/go, built once per test run
/// with Debian's Go toolchain and packages (tools/setup installs them).
enum GoClients {
    static let gopath = "/usr/share/gocode"
    static var go: String? {
        ["/usr/bin/go", "/usr/lib/go/bin/go"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var available: Bool {
        go != nil && FileManager.default.fileExists(atPath: gopath + "/src/github.com/Shopify/sarama")
    }

    /// Whether segmentio/kafka-go is there too (`kafkago_session`).
    static var kafkaGoAvailable: Bool {
        go != nil && FileManager.default.fileExists(atPath: gopath + "/src/github.com/segmentio/kafka-go")
    }

    private static let built = NSLock()
    nonisolated(unsafe) private static var binaries: [String: String] = [:]

    /// The path of the built client `name` (`sarama_session`, `kafkago_session`).
    static func binary(_ name: String) throws -> String {
        built.lock()
        defer { built.unlock() }
        if let b = binaries[name] { return b }
        guard let go else { throw TestFailure("go is not installed (tools/setup installs golang-go)") }
        let source = Harness.root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/go/\(name)").path
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("kafkatape-go-\(UUID().uuidString)-\(name)").path
        // GOPATH mode: Debian's golang-github-*-dev packages install the sources under /usr/share/gocode.
        let r = try Harness.run(
            "/bin/sh", ["-c", "cd \"$1\" && GO111MODULE=off GOPATH=\(gopath) GOCACHE=/tmp/kafkatape-gocache \"$2\" build -o \"$3\" .", "sh", source, go, out],
            timeout: 300)
        guard r.status == 0 else { throw TestFailure("go build \(name) failed: \(r.stderr.suffix(1500))") }
        binaries[name] = out
        return out
    }
}
