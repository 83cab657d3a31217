import Foundation
import KafkaCapture
import KafkaProtocol
import Testing
@testable import KafkaTapeTestSupport

/// `record --upstream-node`, `replay --target-node` and `kafkatape matrix` with real Tansu brokers and
/// kafka-python.
@Suite(.serialized, .enabled(if: Harness.available, "needs the kafkatape binary and tools/setup's Python venv"))
struct MatrixEndToEndTests {
    /// A broker that advertises a port where nothing listens, as SeaweedFS's gateway advertises
    /// 127.0.0.1:9093 whatever port it has: without --upstream-node the client's node connections
    /// fail; with it the session goes through and the capture keeps both addresses.
    @Test func upstreamNodeReachesABrokerThatAdvertisesAnUnreachableAddress() throws {
        let dead = try LoopbackSocket(listening: false)  // held, never listening: connections are refused
        defer { dead.close() }
        let broker = try TestBroker(advertisedPort: dead.port)
        defer { broker.stop() }
        let capture = Harness.tempPath("override.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture, extra: ["--upstream-node", "*=127.0.0.1:\(broker.port)"])
        let consumed = try RecordEndToEndTests.runClient(
            RecordEndToEndTests.Session(library: "kafka-python", codec: "none", mode: "assign"),
            bootstrap: "127.0.0.1:\(recorder.port)", topic: "override")
        #expect(recorder.stop().status == 0)
        #expect(consumed.count == 20)
        let (records, _) = try Harness.readCapture(capture)
        let mappings = records.compactMap { if case .addressMapping(let m) = $0 { return m } else { return nil } }
        #expect(!mappings.isEmpty)
        #expect(mappings.allSatisfy { $0.upstreamPort == Int32(dead.port) }, "the mapping keeps what the broker advertised")
        let overrides = records.compactMap { if case .event(let e) = $0, e.kind == .upstreamOverride { return e } else { return nil } }
        #expect(overrides.first?[attribute: "advertised"] == "127.0.0.1:\(dead.port)")
        #expect(overrides.first?[attribute: "used"] == "127.0.0.1:\(broker.port)")
        let nodeConnections = records.compactMap { r -> ConnectionOpenedRecord? in
            if case .connectionOpened(let o) = r, o.nodeId >= 0 { return o } else { return nil }
        }
        #expect(!nodeConnections.isEmpty)
        #expect(nodeConnections.allSatisfy { $0.upstreamAddress == "127.0.0.1:\(broker.port)" })
        let unreachable = records.contains { if case .event(let e) = $0 { return e.kind == .upstreamUnreachable } else { return false } }
        #expect(!unreachable)

        // Replay against another such broker: the node must be reached with --target-node.
        let other = try TestBroker(advertisedPort: dead.port)
        defer { other.stop() }
        let failed = try Harness.run(
            Harness.kafkatape, ["replay", capture, "--target", "127.0.0.1:\(other.port)", "--timeout", "10"], timeout: 60)
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("unreachable"), "\(failed.stderr)")
        other.stop()
        let fresh = try TestBroker(advertisedPort: dead.port)
        defer { fresh.stop() }
        let replayed = Harness.tempPath("replayed.ktape")
        let ok = try Harness.run(
            Harness.kafkatape,
            ["replay", capture, "--target", "127.0.0.1:\(fresh.port)", "--target-node", "*=127.0.0.1:\(fresh.port)", "--out", replayed],
            timeout: 90)
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    /// Two fresh Tansu brokers replay a kafka-python session the same way, and as recorded.
    @Test func twoFreshBrokersAgreeWithTheRecording() throws {
        let broker = try TestBroker()
        let capture = Harness.tempPath("matrix.ktape")
        let recorder = try Recorder(upstream: broker.port, capture: capture)
        let consumed = try RecordEndToEndTests.runClient(
            RecordEndToEndTests.Session(library: "kafka-python", codec: "none", mode: "assign"),
            bootstrap: "127.0.0.1:\(recorder.port)", topic: "matrix")
        #expect(recorder.stop().status == 0)
        broker.stop()
        #expect(consumed.count == 20)

        let a = try TestBroker()
        defer { a.stop() }
        let b = try TestBroker()
        defer { b.stop() }
        let out = Harness.tempPath("runs")
        let r = try Harness.run(
            Harness.kafkatape,
            ["matrix", capture, "--target", "first=127.0.0.1:\(a.port)", "--target", "second=127.0.0.1:\(b.port)", "--out", out, "--json"],
            timeout: 180)
        #expect(r.status == 0, "matrix: \(r.stdout.suffix(3000)) \(r.stderr.suffix(1500))")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(obj["allMatch"] as? Bool == true)
        let targets = obj["targets"] as? [[String: Any]] ?? []
        #expect(targets.map { $0["name"] as? String } == ["first", "second"])
        #expect(targets.allSatisfy { ($0["sent"] as? Int ?? 0) > 0 && $0["sent"] as? Int == $0["total"] as? Int })
        let pairs = obj["pairs"] as? [[String: Any]] ?? []
        #expect(pairs.count == 1 && pairs.first?["equivalent"] as? Bool == true)
        let apis = (obj["apis"] as? [[String: Any]] ?? []).compactMap { $0["api"] as? String }
        #expect(apis.contains("Produce") && apis.contains("Fetch"))
        // Each run was kept, and is a capture of its own.
        for name in ["first", "second"] {
            let dump = try Harness.run(Harness.kafkatape, ["dump", out + "/" + name + ".ktape", "--api", "Fetch"])
            #expect(dump.status == 0 && dump.stdout.contains("Fetch"))
        }
        // Against an existing --out without --overwrite: refused, nothing replayed.
        let again = try Harness.run(Harness.kafkatape, ["matrix", capture, "--target", "first=127.0.0.1:\(a.port)", "--out", out])
        #expect(again.status == 2)
        #expect(again.stderr.contains("exists"))
    }

    @Test func matrixRejectsBadTargets() throws {
        let capture = Harness.root.appendingPathComponent("captures/schema-registry-clean/session.ktape").path
        for args in [
            ["matrix", capture], ["matrix", capture, "--target", "127.0.0.1:9092"], ["matrix", capture, "--target", "a b=127.0.0.1:1"],
            ["matrix", capture, "--target", "a=127.0.0.1:1", "--target", "a=127.0.0.1:2"],
            ["matrix", capture, "--target", "a=127.0.0.1:1", "--target-node", "b:*=127.0.0.1:2"],
            ["matrix", capture, "--target", "a=127.0.0.1:1", "--pace", "0.0000001"],
            ["matrix", capture, "--target", "a=127.0.0.1:1", "--timeout", "inf"],
            ["replay", capture, "--target", "127.0.0.1:1", "--timeout", "inf"],
            ["replay", capture, "--target", "127.0.0.1:1", "--pace", "1e-300"],
            ["replay", capture, "--target", "127.0.0.1:1", "--target-node", "x=127.0.0.1:1"],
            ["record", "--upstream", "127.0.0.1:1", "--out", Harness.tempPath("x.ktape"), "--upstream-node", "1=nohostport"],
        ] {
            let r = try Harness.run(Harness.kafkatape, args)
            #expect(r.status == 2, "\(args): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("--"), "\(args): \(r.stderr)")
        }
    }
}
