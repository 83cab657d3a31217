import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix
import Testing

@testable import KafkaReplay
@testable import KafkaTapeTestSupport

/// Replay and serve over real loopback sockets, against each other and against scripted brokers.
@Suite(.serialized) struct ReplayServeTests {
    let group = MultiThreadedEventLoopGroup.singleton
    static let local = "127.0.0.1"

    /// The DiffTests-like session: bootstrap conn (ApiVersions, Metadata, Produce), node 1 conn
    /// (JoinGroup, Fetch), recorded against a broker advertised as node 1 at 127.0.0.1:9092.
    func recordedSession(gapNs: UInt64 = 1_000_000) -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        b.advance(gapNs)
        b.exchange(1, Messages.produceRequest(Messages.batch(["v0", "v1"])), Messages.produceResponse(baseOffset: 0), apiKey: 0, version: 9, correlationId: 3)
        b.close(1)
        b.open(2, node: 1)
        var join = JoinGroupRequest()
        join.groupId = "g"
        var joined = JoinGroupResponse()
        joined.memberId = "member-a"
        b.exchange(2, join, joined, apiKey: 11, version: 7, correlationId: 1)
        b.advance(gapNs)
        b.exchange(2, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: Messages.batch(["v0", "v1"]), highWatermark: 2), apiKey: 1, version: 12, correlationId: 2)
        b.close(2)
        return b.session
    }

    func serve(_ session: RecordedSession, onMiss: ServeMissPolicy = .error) async throws -> CaptureServer {
        let server = CaptureServer(
            session: session, configuration: ServeConfiguration(listen: HostPort(host: Self.local, port: 0), onMiss: onMiss, latency: .none),
            group: group)
        try await server.start()
        return server
    }

    @Test func replayAgainstServeOfTheSameCaptureIsEquivalent() async throws {
        let original = recordedSession()
        let server = try await serve(original)
        let sink = MemorySink()
        let replayer = Replayer(
            session: original, configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: server.bootstrapPort)),
            output: sink, group: group)
        let report = await replayer.run()
        await server.stop()
        #expect(report.failure == nil)
        #expect(report.completed)
        #expect(report.requestsSent == 5)
        #expect(report.responsesReceived == 5)
        #expect(report.connectionsOpened == 2)
        let replayed = RecordedSession(records: sink.records)
        #expect(replayed.connections.map(\.role) == ["replay", "replay"])
        #expect(replayed.connections.map(\.nodeId) == [-1, 1])
        // The node-1 connection went to serve's node-1 listener, learned from the replayed Metadata.
        #expect(replayed.connections[1].opened?.upstreamAddress == "127.0.0.1:\(server.nodePorts[1] ?? -1)")
        let diff = CaptureDiff().compare(original, replayed)
        #expect(diff.isEquivalent, "\(diff.text())")
        #expect(server.report.misses.isEmpty)
        #expect(server.report.answered == 5)
    }

    @Test func originalPaceKeepsTheRecordedGaps() async throws {
        let original = recordedSession(gapNs: 150_000_000)
        let server = try await serve(original)
        let target = HostPort(host: Self.local, port: server.bootstrapPort)
        let slow = await Replayer(session: original, configuration: ReplayConfiguration(target: target, pace: .original), group: group).run()
        let fast = await Replayer(session: original, configuration: ReplayConfiguration(target: target, pace: .fast), group: group).run()
        let scaled = await Replayer(session: original, configuration: ReplayConfiguration(target: target, pace: .scaled(3)), group: group).run()
        await server.stop()
        #expect(slow.completed && fast.completed && scaled.completed)
        // Two recorded gaps of 150 ms; the connection-2 requests come after both.
        #expect(slow.elapsedNs >= 290_000_000)
        #expect(scaled.elapsedNs >= 95_000_000 && scaled.elapsedNs < slow.elapsedNs)
        #expect(fast.elapsedNs < scaled.elapsedNs, "fast must not wait out the recorded gaps")
    }

    @Test func liveValuesFromTheTargetAreCarriedIntoLaterRequests() async throws {
        let liveTopicId = KafkaUUID(high: 0xDEAD, low: 0xBEEF)
        let broker = try await ScriptedBroker(group: group) { request in
            switch request.body {
            case is ApiVersionsRequest: return ApiVersionsResponse()
            case is MetadataRequest:
                return Messages.metadataResponse(brokers: [(1, 1)], topics: [("orders", liveTopicId, 0)], leaderEpoch: 4)
            case is InitProducerIdRequest:
                var r = InitProducerIdResponse()
                r.producerId = 42
                r.producerEpoch = 2
                return r
            case is ProduceRequest: return Messages.produceResponse(baseOffset: 0)
            case is JoinGroupRequest:
                var r = JoinGroupResponse()
                r.memberId = "live-member-0123456789"
                r.generationId = 5
                return r
            case is SyncGroupRequest: return SyncGroupResponse()
            case is FetchRequest:
                var r = Messages.fetchResponse(records: Messages.batch(["a"], producerId: 42, producerEpoch: 2), highWatermark: 1, sessionId: 777)
                r.responses[0].topicId = liveTopicId
                return r
            default: return nil
            }
        }
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        var initPid = InitProducerIdResponse()
        initPid.producerId = 7
        initPid.producerEpoch = 0
        b.exchange(1, InitProducerIdRequest(), initPid, apiKey: 22, version: 4, correlationId: 3)
        b.exchange(
            1, Messages.produceRequest(Messages.batch(["x", "y"], producerId: 7, producerEpoch: 0)), Messages.produceResponse(baseOffset: 0),
            apiKey: 0, version: 9, correlationId: 4)
        var join = JoinGroupRequest()
        join.groupId = "g"
        var joined = JoinGroupResponse()
        joined.memberId = "rec-member"
        joined.generationId = 1
        b.exchange(1, join, joined, apiKey: 11, version: 7, correlationId: 5)
        var sync = SyncGroupRequest()
        sync.groupId = "g"
        sync.generationId = 1
        sync.memberId = "rec-member"
        b.exchange(1, sync, SyncGroupResponse(), apiKey: 14, version: 5, correlationId: 6)
        var fetch = Messages.fetchRequest(offset: 0)
        fetch.topics[0].partitions[0].currentLeaderEpoch = 0
        b.exchange(1, fetch, Messages.fetchResponse(records: Messages.batch(["a"]), highWatermark: 1, sessionId: 1234), apiKey: 1, version: 13, correlationId: 7)
        b.exchange(1, Messages.fetchRequest(offset: 1, sessionId: 1234, epoch: 1), Messages.fetchResponse(records: ByteBuffer(), highWatermark: 1, sessionId: 1234), apiKey: 1, version: 13, correlationId: 8)

        let report = await Replayer(
            session: b.session, configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: broker.port)), group: group
        ).run()
        await broker.stop()
        #expect(report.failure == nil)
        #expect(report.completed)
        #expect(report.substitutions["producerId"] == 1)  // the record batch
        #expect(report.substitutions["memberId"] == 1)
        #expect(report.substitutions["generationId"] == 1)
        #expect(report.substitutions["topicId"] == 2)
        #expect(report.substitutions["leaderEpoch"] == 1)
        #expect(report.substitutions["fetchSessionId"] == 1)

        let seen = broker.requests
        let produce = try #require(seen.compactMap { $0.body as? ProduceRequest }.first)
        let records = try #require(produce.topicData.first?.partitionData.first?.records)
        let set = try KafkaRecords.decode(records, verifyCRC: true, strict: true)
        #expect(set.batches.first?.producerId == 42)
        #expect(set.batches.first?.producerEpoch == 2)
        let syncSeen = try #require(seen.compactMap { $0.body as? SyncGroupRequest }.first)
        #expect(syncSeen.memberId == "live-member-0123456789")
        #expect(syncSeen.generationId == 5)
        let fetches = seen.compactMap { $0.body as? FetchRequest }
        #expect(fetches.map { $0.topics.first?.topicId } == [liveTopicId, liveTopicId])
        #expect(fetches.first?.topics.first?.partitions.first?.currentLeaderEpoch == 4)
        #expect(fetches.last?.sessionId == 777)
        #expect(fetches.last?.sessionEpoch == 1)
        #expect(seen.map(\.header.correlationId) == [1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func anUnreachableTargetStopsTheReplayAndKeepsWhatWasDone() async throws {
        let sink = MemorySink()
        let port = Harness.freePort()
        let report = await Replayer(
            session: recordedSession(), configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: port)),
            output: sink, group: group
        ).run()
        guard case .targetUnreachable(let address, _, _)? = report.failure else {
            Issue.record("expected targetUnreachable, got \(String(describing: report.failure))")
            return
        }
        #expect(address == "127.0.0.1:\(port)")
        #expect(!report.completed)
        let kinds = sink.records.compactMap { r -> String? in if case .event(let e) = r { return e.kind.rawValue } else { return nil } }
        #expect(kinds.contains("upstream-unreachable"))
        #expect(kinds.contains("replay-failed"))
    }

    @Test func aTopicTheTargetLacksStopsTheReplay() async throws {
        let broker = try await ScriptedBroker(group: group) { request in
            switch request.body {
            case is ApiVersionsRequest: return ApiVersionsResponse()
            case is MetadataRequest: return Messages.metadataResponse(brokers: [(1, 1)], topics: [("orders", .zero, 3)])
            default: return nil
            }
        }
        let sink = MemorySink()
        let report = await Replayer(
            session: recordedSession(), configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: broker.port)),
            output: sink, group: group
        ).run()
        await broker.stop()
        #expect(report.failure == .missingTopic(topic: "orders", api: "Metadata", connection: 1, error: "UNKNOWN_TOPIC_OR_PARTITION"))
        #expect(report.requestsSent == 2)
        // The partial replay is a readable session of its own.
        let partial = RecordedSession(records: sink.records)
        #expect(partial.exchangeCount == 2)
    }

    @Test func aTopicMissingFromTheTargetsMetadataStopsTheReplay() async throws {
        // Brokers that create topics on first produce never say "unknown topic"; their Metadata does.
        let broker = try await ScriptedBroker(group: group) { request in
            switch request.body {
            case is ApiVersionsRequest: return ApiVersionsResponse()
            case is MetadataRequest: return Messages.metadataResponse(brokers: [(1, 1)], topics: [("other", .zero, 0)])
            default: return nil
            }
        }
        let report = await Replayer(
            session: recordedSession(), configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: broker.port)),
            group: group
        ).run()
        await broker.stop()
        #expect(report.failure == .missingTopic(topic: "orders", api: "Metadata", connection: 1, error: "no such topic"))
        #expect(report.failure?.description.hasPrefix("the target has no topic 'orders'") == true)
    }

    @Test func serveRewritesCorrelationIdsAndBrokerAddresses() async throws {
        let server = try await serve(recordedSession())
        let client = try RawKafkaSocket(port: server.bootstrapPort)
        try client.send(SessionBuilder.requestPayload(ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 555))
        let av = try #require(try client.readFrame())
        #expect(KafkaFrameCodec.responseCorrelationId(av) == 555)
        try client.send(SessionBuilder.requestPayload(Messages.metadataRequest(["orders"]), apiKey: 3, version: 12, correlationId: 556))
        let md = try #require(try client.readFrame())
        let decoded = try KafkaFrameCodec.decodeResponse(md, apiKey: 3, apiVersion: 12)
        let metadata = try #require(decoded.body as? MetadataResponse)
        #expect(decoded.header.correlationId == 556)
        #expect(metadata.brokers.map(\.port) == [Int32(server.nodePorts[1] ?? -1)])
        #expect(metadata.brokers.first?.host == "127.0.0.1")
        await server.stop()
    }

    @Test(arguments: [ServeMissPolicy.error, .close, .nearest])
    func missesFollowThePolicyAndAreReported(_ policy: ServeMissPolicy) async throws {
        let server = try await serve(recordedSession(), onMiss: policy)
        let nodePort = try #require(server.nodePorts[1])
        let client = try RawKafkaSocket(port: nodePort)
        try client.send(SessionBuilder.requestPayload(Messages.fetchRequest(offset: 9), apiKey: 1, version: 12, correlationId: 31))
        let frame = try client.readFrame()
        switch policy {
        case .close:
            #expect(frame == nil)
        case .error, .nearest:
            let payload = try #require(frame)
            let r = try #require(try KafkaFrameCodec.decodeResponse(payload, apiKey: 1, apiVersion: 12).body as? FetchResponse)
            let p = try #require(r.responses.first?.partitions.first)
            #expect(KafkaFrameCodec.responseCorrelationId(payload) == 31)
            #expect(p.errorCode == (policy == .error ? -1 : 0))
            #expect(r.errorCode == (policy == .error ? -1 : 0))
        }
        let misses = server.report.misses
        await server.stop()
        #expect(misses.count == 1)
        let miss = try #require(misses.first)
        #expect(miss.nearest?.connection == 2)
        #expect(miss.differences.map(\.path.description) == ["Topics[Topic=orders].Partitions[Partition=0].FetchOffset"])
        #expect(miss.description.contains("FetchOffset: recorded 0, received 9"))
    }

    @Test func servePlaysThroughAndLoops() async throws {
        let session = recordedSession()
        let server = CaptureServer(
            session: session, configuration: ServeConfiguration(listen: HostPort(host: Self.local, port: 0), loop: true, latency: .none),
            group: group)
        try await server.start()
        for _ in 0..<2 {
            let report = await Replayer(
                session: session, configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: server.bootstrapPort)), group: group
            ).run()
            #expect(report.completed)
            // Let the closes reach the server.
            for _ in 0..<50 where server.report.rounds == 0 { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        for _ in 0..<50 where server.report.rounds < 2 { try await Task.sleep(nanoseconds: 10_000_000) }
        #expect(server.report.rounds == 2)
        #expect(server.report.misses.isEmpty)
        await server.stop()
    }
}
