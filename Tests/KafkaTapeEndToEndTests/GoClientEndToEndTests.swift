import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// Go clients (sarama) through record, replay, diff and serve, with a health-check probe connection.
@Suite(.serialized, .enabled(if: Harness.available && GoClients.available, "needs the kafkatape binary, the venv and Go with sarama (tools/setup)"))
struct GoClientEndToEndTests {
    /// Opens a TCP connection to 127.0.0.1:`port` and closes it without a byte: a readiness probe.
    static func probe(_ port: Int) {
        #expect(Harness.canConnect(port: port))
    }

    static func runSarama(bootstrap: String, topic: String) throws -> [[Any]] {
        let r = try Harness.run(try GoClients.binary("sarama_session"), [bootstrap, topic, "5"], timeout: 60)
        guard r.status == 0, let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
            let consumed = obj["consumed"] as? [[Any]]
        else { throw TestFailure("sarama_session failed (\(r.status)): \(r.stdout.suffix(500)) \(r.stderr.suffix(1500))") }
        return consumed
    }

    @Test func saramaWithAProbeConnectionReplaysCleanAndServes() throws {
        let broker = try TestBroker()
        let capture = Harness.tempPath("sarama.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture)
        Self.probe(recorder.port)
        let consumed = try Self.runSarama(bootstrap: "127.0.0.1:\(recorder.port)", topic: "sarama")
        #expect(recorder.stop().status == 0)
        broker.stop()
        #expect(consumed.count == 5)
        #expect((consumed.last?[2] as? String) == "value-4")

        // The probe is in the capture: a connection that opened and closed without a request.
        let (records, _) = try Harness.readCapture(capture)
        let withFrames = Set(records.compactMap { if case .frame(let f) = $0 { return f.connectionId } else { return nil } })
        let opened = records.compactMap { if case .connectionOpened(let o) = $0 { return o.connectionId } else { return nil } }
        #expect(opened.contains { !withFrames.contains($0) }, "no connection without requests in the capture")

        // Replay against a fresh broker: the probe is opened and closed again, and the diff is clean.
        let fresh = try TestBroker()
        defer { fresh.stop() }
        let (replayed, diff) = try Harness.replayAndDiff(capture, targetPort: fresh.port)
        #expect(diff.status == 0, "diff: \(diff.stdout.suffix(3000))")
        let (again, _) = try Harness.readCapture(replayed)
        let replayedOpened = again.compactMap { if case .connectionOpened(let o) = $0 { return o.connectionId } else { return nil } }
        #expect(Set(replayedOpened) == Set(opened))

        // Served to sarama again, with a readiness probe on the served port first: no misses.
        let serve = try Daemon(Harness.kafkatape, ["serve", capture, "--listen", "127.0.0.1:0", "--latency", "none"])
        let port = try #require(Int(try serve.waitFor(#"listening on 127\.0\.0\.1:(\d+)"#)))
        Self.probe(port)
        let served = try Self.runSarama(bootstrap: "127.0.0.1:\(port)", topic: "sarama")
        let status = serve.stop(signal: SIGINT)
        #expect(served.count == 5, "served: \(serve.collector.stdout) \(serve.collector.stderr.suffix(1500))")
        #expect(status == 0, "serve exit \(status): \(serve.collector.stdout)")
    }
}

/// `--ready-file`: other languages' test fixtures wait for a file instead of polling.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary"))
struct ReadyFileTests {
    static func waitForFile(_ path: String, timeout: TimeInterval = 20) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = try? String(contentsOfFile: path, encoding: .utf8), s.hasSuffix("\n") { return s }
            usleep(20_000)
        }
        return nil
    }

    @Test func serveAndRecordAnnounceTheirAddressAndWithdrawIt() throws {
        let capture = Harness.root.appendingPathComponent("captures/schema-registry-clean/session.ktape").path
        let ready = Harness.tempPath("serve.ready")
        let serve = try Daemon(Harness.kafkatape, ["serve", capture, "--listen", "127.0.0.1:0", "--ready-file", ready])
        let text = try #require(Self.waitForFile(ready))
        let port = try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ":").last ?? ""))
        #expect(text.hasPrefix("127.0.0.1:"))
        #expect(Harness.canConnect(port: port))
        serve.stop(signal: SIGINT)
        #expect(!FileManager.default.fileExists(atPath: ready), "the ready file outlived serve")

        let recordReady = Harness.tempPath("record.ready")
        let record = try Daemon(
            Harness.kafkatape,
            ["record", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:1", "--out", Harness.tempPath("r.ktape"), "--ready-file", recordReady])
        let recordText = try #require(Self.waitForFile(recordReady))
        #expect(recordText.hasPrefix("127.0.0.1:"))
        #expect(record.stop(signal: SIGINT) == 0)
        #expect(!FileManager.default.fileExists(atPath: recordReady))

        let bad = try Harness.run(Harness.kafkatape, ["serve", capture, "--ready-file", "/no/such/folder/ready"])
        #expect(bad.status == 2 && bad.stderr.contains("--ready-file"))
    }
}
