import Foundation
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

@testable import KafkaReplay
@testable import KafkaTapeTestSupport

/// Real clients (kafka-python, confluent-kafka) against Tansu, recorded through the proxy, then
/// replayed, served and diffed.
@Suite(.serialized, .enabled(if: Harness.tansuAvailable, "needs .venv with the clients and Tansu (tools/setup)"))
struct EndToEndTests {
    static let clients = ["kp_session.py", "ck_session.py"]

    /// Replays against fresh brokers, `parallel` at a time; returns the replayed sessions.
    func replays(of recording: Recording, count: Int, parallel: Int = 5, dir: URL) async throws -> [RecordedSession] {
        var results: [Int: RecordedSession] = [:]
        var next = 0
        try await withThrowingTaskGroup(of: (Int, RecordedSession).self) { group in
            func launch(_ i: Int) {
                group.addTask {
                    let broker = try TestBroker()
                    defer { broker.stop() }
                    let path = dir.appendingPathComponent("replay-\(i)-\(UUID().uuidString).ktape").path
                    let sink = try FileCaptureSink(
                        path: path,
                        header: CaptureHeader(
                            toolVersion: "kafkatape-tests", startTime: SystemCaptureClock().now(), listenAddress: "replay",
                            upstreamAddress: broker.address.description))
                    let report = await Replayer(session: recording.session, configuration: ReplayConfiguration(target: broker.address), output: sink).run()
                    try sink.close()
                    guard report.completed else { throw TestFailure("replay \(i) did not complete: \(String(describing: report.failure))") }
                    return (i, try RecordedSession.read(path: path))
                }
            }
            while next < min(parallel, count) {
                launch(next)
                next += 1
            }
            while let (i, session) = try await group.next() {
                results[i] = session
                if next < count {
                    launch(next)
                    next += 1
                }
            }
        }
        return (0..<count).compactMap { results[$0] }
    }

    @Test(arguments: clients)
    func replayIsDeterministic(client: String) async throws {
        let recording = try await RecordingCache.shared.recording(client)
        let dir = Harness.tempDirectory()
        let replayed = try await replays(of: recording, count: 10, dir: dir)
        #expect(replayed.count == 10)
        // The live member id (and, for librdkafka's Fetch v13+, the topic id) went through the bindings.
        for r in replayed {
            let substituted = Set(r.events.filter { $0.kind == .rewrite }.flatMap { $0.attributes.map(\.key) })
            #expect(substituted.contains("MemberId"), "\(substituted)")
            if client == "ck_session.py" { #expect(substituted.contains("Topics[0].TopicId"), "\(substituted)") }
        }
        let diff = CaptureDiff()
        for (i, r) in replayed.enumerated() {
            let report = diff.compare(recording.session, r, pathA: "original", pathB: "replay \(i)")
            #expect(report.isEquivalent, "original vs replay \(i):\n\(report.text())")
            #expect(report.comparedCount == recording.session.exchangeCount)
        }
        for i in replayed.indices {
            for j in replayed.indices where j > i {
                let report = diff.compare(replayed[i], replayed[j])
                #expect(report.isEquivalent, "replay \(i) vs replay \(j):\n\(report.text())")
            }
        }
    }

    @Test func aSecondReplayOnTheSameBrokerGetsANewProducerIdIntoItsBatches() async throws {
        let recording = try await RecordingCache.shared.recording("kp_session.py")
        let broker = try TestBroker()
        defer { broker.stop() }
        let first = await Replayer(session: recording.session, configuration: ReplayConfiguration(target: broker.address)).run()
        #expect(first.completed)
        #expect(!first.warnings.contains { $0.contains("first Produce got base offset") }, "\(first.warnings)")
        let sink = MemorySink()
        let second = await Replayer(
            session: recording.session, configuration: ReplayConfiguration(target: broker.address), output: sink
        ).run()
        #expect(second.completed, "\(String(describing: second.failure))")
        #expect(second.substitutions["producerId"] == 1, "\(second.substitutions)")
        let replayed = RecordedSession(records: sink.records)
        let initPid = try #require(replayed.allExchanges.first { $0.apiKey == 22 })
        let initPayload = try #require(initPid.response?.payload)
        let pidBody = try KafkaFrameCodec.decodeResponse(initPayload, apiKey: 22, apiVersion: initPid.apiVersion).body
        let pid = try #require(pidBody as? InitProducerIdResponse)
        let produce = try #require(replayed.allExchanges.first { $0.apiKey == 0 })
        let requestBody = try KafkaFrameCodec.decodeRequest(produce.request.payload).body
        let request = try #require(requestBody as? ProduceRequest)
        let records = try #require(request.topicData.first?.partitionData.first?.records)
        let batches = try KafkaRecords.decode(records, strict: true)
        #expect(batches.batches.first?.producerId == pid.producerId)
        #expect(pid.producerId != 1)
        let producePayload = try #require(produce.response?.payload)
        let answerBody = try KafkaFrameCodec.decodeResponse(producePayload, apiKey: 0, apiVersion: produce.apiVersion).body
        let answer = try #require(answerBody as? ProduceResponse)
        // The broker took the rewritten batch: no error, appended after the first replay's records.
        #expect(answer.responses.first?.partitionResponses.first?.errorCode == 0)
        #expect(answer.responses.first?.partitionResponses.first?.baseOffset == 5)
        // And the replay says why its offsets will not match the recording's.
        let partition = try #require(answer.responses.first?.partitionResponses.first?.index)
        #expect(
            second.warnings.filter { $0.contains("first Produce got base offset") }
                == ["orders-\(partition): the replay's first Produce got base offset 5, the recording's 0: the target's partition held other records than the recording's broker did, so offsets, high watermarks and fetched records differ from the recording from there (replay against a fresh cluster for a clean diff)"],
            "\(second.warnings)")
    }

    /// Runs the client against an in-process serve of `capture`, `runs` times, each with a fresh server.
    func serveRuns(_ session: RecordedSession, client: String, runs: Int) async throws -> ([String], [ServeReport]) {
        var outputs: [String] = []
        var reports: [ServeReport] = []
        for _ in 0..<runs {
            let server = CaptureServer(session: session, configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0)))
            try await server.start()
            let out = try await Harness.runAsync(Harness.python, [ReplayClients.path(client), server.bootstrapAddress, "orders"], timeout: 60)
            await server.stop()
            #expect(out.status == 0, "\(out.stderr)")
            outputs.append(out.stdout)
            reports.append(server.report)
        }
        return (outputs, reports)
    }

    @Test(arguments: clients)
    func serveGivesTheClientItsRecordedResults(client: String) async throws {
        let recording = try await RecordingCache.shared.recording(client)
        let (outputs, reports) = try await serveRuns(recording.session, client: client, runs: 10)
        for (i, out) in outputs.enumerated() {
            #expect(out == recording.clientOutput, "run \(i): \(out) != \(recording.clientOutput); misses: \(reports[i].misses)")
        }
        #expect(reports.allSatisfy { $0.misses.isEmpty }, "\(reports.flatMap(\.misses))")
    }

    @Test func serveReplaysAStaleFetchResponse() async throws {
        let recording = try await RecordingCache.shared.recording("kp_session.py")
        let dir = Harness.tempDirectory()
        let stalePath = dir.appendingPathComponent("stale.ktape").path
        var edited = 0
        try CaptureEditor.edit(recording.path, to: stalePath) { e, frame in
            guard e.apiKey == 1, frame.direction == .response, edited == 0 else { return frame }
            edited += 1
            return try CaptureEditor.replacingResponse(frame, e) { body in
                guard var fetch = body as? FetchResponse, let records = fetch.responses.first?.partitions.first?.records else { return }
                fetch.responses[0].partitions[0].records = try CaptureEditor.replacingValue(in: records, offset: 2, with: "stale-v2")
                body = fetch
            }
        }
        #expect(edited == 1)
        let stale = try RecordedSession.read(path: stalePath)
        let (outputs, reports) = try await serveRuns(stale, client: "kp_session.py", runs: 10)
        let expected = recording.clientOutput.replacingOccurrences(of: "\"k2\", \"v2\"", with: "\"k2\", \"stale-v2\"")
        #expect(expected != recording.clientOutput)
        for (i, out) in outputs.enumerated() { #expect(out == expected, "run \(i): \(out)") }
        #expect(reports.allSatisfy { $0.misses.isEmpty })
    }

    @Test func diffFindsExactlyTheEditedFields() async throws {
        guard Harness.kafkatapeIfBuilt != nil else { return }
        let recording = try await RecordingCache.shared.recording("kp_session.py")
        let dir = Harness.tempDirectory()
        let editedPath = dir.appendingPathComponent("edited.ktape").path
        try CaptureEditor.edit(recording.path, to: editedPath) { e, frame in
            guard frame.direction == .response else { return frame }
            switch e.apiKey {
            case 1:
                return try CaptureEditor.replacingResponse(frame, e) { body in
                    guard var fetch = body as? FetchResponse, let records = fetch.responses.first?.partitions.first?.records else { return }
                    fetch.responses[0].partitions[0].records = try CaptureEditor.replacingValue(in: records, offset: 3, with: "changed")
                    fetch.responses[0].partitions[0].highWatermark -= 1
                    body = fetch
                }
            case 0:
                return try CaptureEditor.replacingResponse(frame, e) { body in
                    guard var produce = body as? ProduceResponse else { return }
                    produce.responses[0].partitionResponses[0].errorCode = 6
                    body = produce
                }
            default:
                return frame
            }
        }
        let junit = dir.appendingPathComponent("diff.xml").path
        let out = try await Harness.runAsync(Harness.kafkatape, ["diff", recording.path, editedPath, "--json", "--junit", junit])
        #expect(out.status == 1, "\(out.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any])
        #expect(json["equivalent"] as? Bool == false)
        let exchanges = ((json["connections"] as? [[String: Any]]) ?? []).flatMap { ($0["exchanges"] as? [[String: Any]]) ?? [] }
        let paths = exchanges.flatMap { e in
            ((e["differences"] as? [[String: Any]]) ?? []).map { "\(e["api"] ?? "?") \($0["side"] ?? "?") \($0["path"] ?? "?")" }
        }
        #expect(
            paths.sorted() == [
                "Fetch response Responses[Topic=orders].Partitions[PartitionIndex=0].HighWatermark",
                "Fetch response Responses[Topic=orders].Partitions[PartitionIndex=0].Records[offset=3].value",
                "Produce response Responses[Name=orders].PartitionResponses[Index=0].ErrorCode",
            ])
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: junit)))
        let counter = CountingDelegate()
        parser.delegate = counter
        #expect(parser.parse())
        #expect(counter.testcases == recording.session.exchangeCount)
        #expect(counter.failures == 2)

        // The text report, and the request stream changing.
        let text = try await Harness.runAsync(Harness.kafkatape, ["diff", recording.path, editedPath])
        #expect(text.stdout.contains("Records[offset=3].value: A {\"utf8\":\"v3\"}  B {\"utf8\":\"changed\"}"))
        let droppedPath = dir.appendingPathComponent("dropped.ktape").path
        var droppedSequence: Int?
        try CaptureEditor.edit(recording.path, to: droppedPath) { e, frame in
            if e.apiKey == 2, droppedSequence == nil || droppedSequence == e.sequence {
                droppedSequence = e.sequence
                return nil
            }
            return frame
        }
        let streams = try await Harness.runAsync(Harness.kafkatape, ["diff", recording.path, droppedPath])
        #expect(streams.status == 1)
        #expect(streams.stdout.contains("ListOffsets v9: request stream diverged: sent only in A"), "\(streams.stdout)")
        let same = try await Harness.runAsync(Harness.kafkatape, ["diff", recording.path, recording.path])
        #expect(same.status == 0)
        #expect(same.stdout.hasPrefix("equivalent:"))
    }

    @Test func replayCommandLineAndBadInput() async throws {
        guard Harness.kafkatapeIfBuilt != nil else { return }
        let recording = try await RecordingCache.shared.recording("kp_session.py")
        let dir = Harness.tempDirectory()
        let k = Harness.kafkatape

        // A whole replay through the CLI, then diff of the two captures: exit 0 both.
        let broker = try TestBroker()
        let out = dir.appendingPathComponent("cli-replay.ktape").path
        let replay = try await Harness.runAsync(k, ["replay", recording.path, "--target", broker.address.description, "--out", out])
        broker.stop()
        #expect(replay.status == 0, "\(replay.stderr)")
        #expect(replay.stdout.contains("requests: \(recording.session.exchangeCount)/\(recording.session.exchangeCount) sent"))
        let diff = try await Harness.runAsync(k, ["diff", recording.path, out])
        #expect(diff.status == 0, "\(diff.stdout)")

        // Not a capture.
        let junk = dir.appendingPathComponent("junk.ktape").path
        try Data("hello, not a capture".utf8).write(to: URL(fileURLWithPath: junk))
        let bad = try await Harness.runAsync(k, ["replay", junk, "--target", "127.0.0.1:9"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("not a KafkaTape capture"), "\(bad.stderr)")
        let badDiff = try await Harness.runAsync(k, ["diff", junk, recording.path])
        #expect(badDiff.status == 2)
        let badServe = try await Harness.runAsync(k, ["serve", junk, "--listen", "127.0.0.1:0"])
        #expect(badServe.status == 2)

        // A target that refuses connections: exit 2, a clear reason, the partial --out kept.
        let refusedOut = dir.appendingPathComponent("refused.ktape").path
        let port = Harness.freePort()
        let refused = try await Harness.runAsync(k, ["replay", recording.path, "--target", "127.0.0.1:\(port)", "--out", refusedOut])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("target 127.0.0.1:\(port) unreachable"), "\(refused.stderr)")
        let partial = try RecordedSession.read(path: refusedOut)
        #expect(partial.events.contains { $0.kind == .upstreamUnreachable })

        // A target without the topic: replay everything but the connection that created it.
        let keep = recording.session.connections.filter { c in !c.exchanges.contains { $0.apiKey == 19 } }.map(\.id)
        let fresh = try TestBroker()
        let missingOut = dir.appendingPathComponent("missing.ktape").path
        let missing = try await Harness.runAsync(
            k, ["replay", recording.path, "--target", fresh.address.description, "--out", missingOut] + keep.flatMap { ["--connection", "\($0)"] })
        fresh.stop()
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("the target has no topic 'orders'"), "\(missing.stderr)")
        let kept = try RecordedSession.read(path: missingOut)
        #expect(kept.exchangeCount >= 1)

        // Bad options.
        let pace = try await Harness.runAsync(k, ["replay", recording.path, "--target", "127.0.0.1:1", "--pace", "sideways"])
        #expect(pace.status == 2)
        let ignore = try await Harness.runAsync(k, ["diff", recording.path, recording.path, "--ignore", "Topics["])
        #expect(ignore.status == 2)
        #expect(ignore.stderr.contains("bad field path"))
        let unknownConn = try await Harness.runAsync(k, ["replay", recording.path, "--target", "127.0.0.1:1", "--connection", "999"])
        #expect(unknownConn.status == 2)
    }

    @Test func serveCommandLinePlaysThroughAndReportsMisses() async throws {
        guard Harness.kafkatapeIfBuilt != nil else { return }
        let recording = try await RecordingCache.shared.recording("kp_session.py")
        let serve = try ServeDaemon(capture: recording.path)
        defer { serve.stop() }
        let run = try await Harness.runAsync(Harness.python, [ReplayClients.path("kp_session.py"), "127.0.0.1:\(serve.port)", "orders"])
        #expect(run.stdout == recording.clientOutput)
        // Without --loop, serve exits by itself once the session was played through.
        let status = serve.daemon.exitStatus(within: 10)
        #expect(status == 0, "\(serve.output)")
        #expect(serve.output.contains("misses: 0"))

        // A client doing something else: a miss, reported, exit 1.
        let other = try ServeDaemon(capture: recording.path, extra: ["--on-miss", "close"])
        let client = try RawKafkaSocket(port: other.port)
        try client.send(SessionBuilder.requestPayload(Messages.metadataRequest(["payments"]), apiKey: 3, version: 12, correlationId: 1))
        #expect(try client.readFrame() == nil)
        other.daemon.interrupt()
        #expect(other.daemon.exitStatus(within: 10) == 1)
        #expect(other.output.contains("misses: 1"))
        #expect(other.output.contains("miss: connection 1 Metadata v12"))
    }

    /// A 500-request librdkafka session replayed three times in a row against `serve --loop` of itself:
    /// every request is answered from the recording each time. (Its rate is a benchmark:
    /// tools/bench-replay.)
    @Test func repeatedReplaysAgainstServeAreAllAnswered() async throws {
        let recording = try await RecordingCache.shared.recording("kp_session.py", ["rate", "--records", "500", "--flush-each", "--no-consume"])
        let server = CaptureServer(
            session: recording.session, configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), loop: true))
        try await server.start()
        for _ in 0..<3 {
            let report = await Replayer(
                session: recording.session, configuration: ReplayConfiguration(target: HostPort(host: "127.0.0.1", port: server.bootstrapPort))
            ).run()
            #expect(report.completed, "\(report.summaryLines)")
            #expect(report.requestsSent >= 500)
            #expect(report.responsesReceived == report.requestsSent, "\(report.summaryLines)")
        }
        #expect(server.report.misses.isEmpty, "\(server.report.misses.prefix(3))")
        await server.stop()
    }
}
