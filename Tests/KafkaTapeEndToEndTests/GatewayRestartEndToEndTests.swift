import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// The seed scenario across a gateway restart: a kafka-python session through `kafkatape record` writes
/// known values, the broker behind the proxy is restarted (same port), and the same clients reconnect
/// through the proxy and read the values back. With Tansu on S3 storage (a local moto_server) the values
/// survive; with memory storage they are lost, `check` says so, and replaying the capture against a
/// durable gateway proves the difference with `diff`.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct GatewayRestartEndToEndTests {
    static var script: String {
        Harness.root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients/restart_session.py").path
    }
    static let seeds = (0..<5).map { "seed-\($0)" }

    struct Session {
        var before: [String]
        var after: [String]
        var capture: String
        var records: [CaptureRecord]
    }

    /// Runs the session; the broker is restarted when the client says so, with the same storage.
    static func run(s3Endpoint: String?, afterSeconds: Int) throws -> Session {
        var broker = try TestBroker(s3Endpoint: s3Endpoint)
        defer { broker.stop() }
        let port = broker.port
        let capture = Harness.tempPath("restart.ktape")
        let recorder = try Recorder(upstream: port, capture: capture)
        let client = try Daemon(Harness.python, [script, "127.0.0.1:\(recorder.port)", "seeds-\(port)", String(seeds.count), String(afterSeconds)])
        defer { client.stop(signal: SIGKILL) }
        _ = try client.waitFor(#""phase": "restart-now""#, inStderr: false, timeout: 60)
        broker.stop()
        broker = try TestBroker(port: port, s3Endpoint: s3Endpoint)
        client.send("restarted")
        _ = try client.waitFor(#""phase": "after""#, inStderr: false, timeout: Double(afterSeconds) + 60)
        let status = client.stop(signal: SIGTERM, timeout: 30)
        #expect(status == 0, "client: \(client.collector.stderr.suffix(800))")
        #expect(recorder.stop().status == 0)
        func values(_ phase: String) -> [String] {
            for line in client.collector.stdout.split(separator: "\n") {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    obj["phase"] as? String == phase
                else { continue }
                return (obj["values"] as? [Any] ?? []).map { $0 as? String ?? "<null>" }
            }
            return ["<no \(phase) line>"]
        }
        let (records, _) = try Harness.readCapture(capture)
        return Session(before: values("before"), after: values("after"), capture: capture, records: records)
    }

    /// Fetch responses in the capture that carried records, with their connection ids.
    static func fetchedRecordCounts(_ records: [CaptureRecord]) -> [(connection: UInt64, records: Int)] {
        var out: [(UInt64, Int)] = []
        for case .exchange(let e) in ExchangeTracker.pair(records) where e.apiKey == 1 {
            guard case .success(let r)? = DecodedExchange(e).response, let fetch = r.body as? FetchResponse else { continue }
            let n = fetch.responses.flatMap(\.partitions).reduce(0) { sum, p in
                sum + (p.records.flatMap { try? KafkaRecords.decode($0) }?.records.count ?? 0)
            }
            if n > 0 { out.append((e.connectionId, n)) }
        }
        return out
    }

    @Test func durableGatewayKeepsTheValuesAndTheCaptureShowsTheRestart() throws {
        let moto = try MotoServer()
        defer { moto.stop() }
        let session = try Self.run(s3Endpoint: moto.endpoint, afterSeconds: 15)
        #expect(session.before == Self.seeds)
        #expect(session.after == Self.seeds, "values read back after the restart")

        // The capture shows the broker going away, the reconnect attempts while it was down, and the
        // values fetched again on a connection opened after the restart.
        let closedByBroker = session.records.compactMap {
            if case .connectionClosed(let c) = $0, c.closedBy == .broker { return c.connectionId } else { return nil }
        }
        #expect(!closedByBroker.isEmpty, "no connection closed by the broker in the capture")
        let fetches = Self.fetchedRecordCounts(session.records)
        #expect(fetches.contains { $0.records == 5 && $0.connection > (closedByBroker.max() ?? 0) },
                "no fetch of the five values after the restart: \(fetches)")

        // check: nothing lost. I13 may note a request the old broker never answered; I27 says the broker
        // could not be reached while it was down (the clients retried through the proxy then).
        let check = try Harness.checkCounts(session.capture, skip: ["I16"])
        #expect(Set(check.counts.keys).isSubset(of: ["I13", "I27"]), "check found \(check.counts)")
        #expect(check.counts["I27", default: 0] > 0, "the restart's unreachable broker is not a finding")
        #expect(check.counts["I1", default: 0] + check.counts["I2", default: 0] + check.counts["I6", default: 0] == 0)
    }

    @Test func volatileGatewayLosesTheValuesCheckFlagsItAndReplayProvesTheDurableFix() throws {
        // 1. The bug: a gateway whose storage does not survive a restart.
        let session = try Self.run(s3Endpoint: nil, afterSeconds: 5)
        #expect(session.before == Self.seeds)
        #expect(session.after == [], "memory storage should lose the values across the restart")
        let lost = try Harness.checkCounts(session.capture, skip: ["I16"])
        #expect(lost.status == 1)
        // I6: the Fetch high watermark fell below what Produce had acknowledged; I2 comes with it.
        #expect(lost.counts["I6", default: 0] > 0, "check found \(lost.counts)")

        // 2. Replay the captured client against a durable gateway (Tansu on S3).
        let moto = try MotoServer()
        defer { moto.stop() }
        let fixed = try TestBroker(s3Endpoint: moto.endpoint)
        defer { fixed.stop() }
        let (replayed, diff) = try Harness.replayAndDiff(session.capture, targetPort: fixed.port)

        // 3. diff: the fetches after the restart now carry the values.
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("HighWatermark: A 0  B 5"), "diff: \(diff.stdout.prefix(1500))")
        #expect(diff.stdout.contains(#"Records[offset=4]: A (absent)  B {"offset":4"#))
        #expect(diff.stdout.contains(#""value":{"utf8":"seed-4"}"#))

        // 4. check on the replay: nothing lost.
        let after = try Harness.checkCounts(replayed, skip: ["I16"])
        #expect(after.counts["I6"] == nil && after.counts["I2"] == nil && after.counts["I1"] == nil, "check on the replay found \(after.counts)")
    }
}
