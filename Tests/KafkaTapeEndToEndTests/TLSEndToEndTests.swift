import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// TLS on both sides of the proxy with a real client: kafka-python (TLS, hostname checked) → proxy A
/// (TLS listeners, TLS upstream verified against the test CA) → proxy B (TLS listeners, plain upstream)
/// → Tansu. Certificates are made at test time with openssl.
@Suite(.serialized, .enabled(if: Harness.available && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl"), "needs openssl, the kafkatape binary and the Python venv"))
struct TLSEndToEndTests {
    static func makeCertificate() throws -> (cert: String, key: String) {
        let dir = URL(fileURLWithPath: Harness.tempPath("tls")).deletingLastPathComponent().path
        let cert = dir + "/cert.pem"
        let key = dir + "/key.pem"
        let r = try Harness.run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1"], timeout: 60)
        guard r.status == 0 else { throw TestFailure("openssl failed: \(r.stderr)") }
        return (cert, key)
    }

    @Test func aTLSClientThroughATLSChainSeesItsDataAndTheCapturesAreReadable() throws {
        let (cert, key) = try Self.makeCertificate()
        let broker = try TestBroker()
        defer { broker.stop() }
        let inner = try Recorder(upstream: broker.port, capture: Harness.tempPath("inner.ktape"), extra: ["--tls-cert", cert, "--tls-key", key])
        let outer = try Recorder(
            upstream: inner.port, capture: Harness.tempPath("outer.ktape"),
            extra: ["--tls-cert", cert, "--tls-key", key, "--upstream-tls", "--upstream-ca", cert])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Harness.python)
        p.arguments = [FaultEndToEndTests.script, "values", "127.0.0.1:\(outer.port)", "tls"]
        var env = ProcessInfo.processInfo.environment
        env["KAFKATAPE_SSL_CAFILE"] = cert
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = PipeReader.readToEnd(out.fileHandleForReading)
        p.waitUntilExit()
        #expect(outer.stop().status == 0)
        #expect(inner.stop().status == 0)
        #expect(p.terminationStatus == 0)
        #expect(String(decoding: data, as: UTF8.self).contains(#""values": ["value-0", "value-1", "value-2", "value-3", "value-4"]"#))
        // Both proxies recorded the session in clear.
        for capture in [outer.capture, inner.capture] {
            let (records, _) = try Harness.readCapture(capture)
            var produce = 0
            for case .exchange(let e) in ExchangeTracker.pair(records) where e.apiKey == 0 {
                if case .success = DecodedExchange(e).request { produce += 1 }
            }
            #expect(produce >= 1, "\(capture) holds decodable Produce requests")
        }
    }

    @Test func tlsMisconfigurationIsAClearError() throws {
        let (cert, key) = try Self.makeCertificate()
        let out = Harness.tempPath("x.ktape")
        for args in [["--tls-cert", cert], ["--tls-cert", "/nonexistent.pem", "--tls-key", key], ["--upstream-ca", cert]] {
            let r = try Harness.run(Harness.kafkatape, ["record", "--upstream", "127.0.0.1:1", "--out", out] + args, timeout: 20)
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.contains("tls") || r.stderr.contains("upstream") || r.stderr.contains("load"))
        }
        // TLS to an upstream that speaks plaintext: no Kafka answer ever comes back; the client gives up.
        let broker = try TestBroker()
        defer { broker.stop() }
        let recorder = try Recorder(upstream: broker.port, capture: Harness.tempPath("plain.ktape"), extra: ["--upstream-tls", "--upstream-ca", cert])
        let r = try Harness.run(Harness.python, [FaultEndToEndTests.script, "values", "127.0.0.1:\(recorder.port)", "t"], timeout: 60)
        #expect(recorder.stop().status == 0)
        #expect(r.status != 0)
        let (records, _) = try Harness.readCapture(recorder.capture)
        #expect(!records.contains { if case .frame(let f) = $0 { return f.direction == .response } else { return false } })
        #expect(records.contains { if case .connectionOpened = $0 { return true } else { return false } })
    }
}
