import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import NIOPosix
import Testing

@testable import KafkaReplay
@testable import KafkaTapeTestSupport

/// Connections without requests (health-check probes, abandoned reconnects) and `--target-node`.
@Suite(.serialized) struct ProbeAndTargetNodeTests {
    let group = MultiThreadedEventLoopGroup.singleton
    static let local = "127.0.0.1"

    /// A probe on the bootstrap listener, then a client session, then a probe to node 1.
    func sessionWithProbes() -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        b.close(1)
        b.open(2)
        b.exchange(2, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(2, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        b.open(3, node: 1)
        b.close(3)
        b.close(2)
        return b.session
    }

    @Test func thePlanKeepsProbeConnectionsInTheirPlace() {
        let plan = ReplayPlan(session: sessionWithProbes())
        #expect(plan.connections.map(\.id).sorted() == [1, 2, 3])
        #expect(plan.requestCount == 2)
        let probe = plan.connections.firstIndex { $0.id == 3 }
        let client = plan.connections.firstIndex { $0.id == 2 }
        guard let probe, let client else {
            Issue.record("connections missing from the plan")
            return
        }
        #expect(plan.steps[probe].isEmpty)
        // The node-1 probe came after the Metadata answer: it waits for it in the replay too.
        #expect(plan.opens[probe].dependencies == [ReplayPlan.Dependency(connection: client, step: 1)])
        let first = plan.connections.firstIndex { $0.id == 1 } ?? -1
        #expect(plan.opens[first].dependencies.isEmpty)
    }

    @Test func probeConnectionsAreReplayedAndTheDiffIsClean() async throws {
        let original = sessionWithProbes()
        let server = CaptureServer(
            session: original, configuration: ServeConfiguration(listen: HostPort(host: Self.local, port: 0), latency: .none),
            group: group)
        try await server.start()
        let sink = MemorySink()
        let report = await Replayer(
            session: original, configuration: ReplayConfiguration(target: HostPort(host: Self.local, port: server.bootstrapPort)),
            output: sink, group: group
        ).run()
        await server.stop()
        #expect(report.failure == nil)
        #expect(report.connectionsOpened == 3)
        let replayed = RecordedSession(records: sink.records)
        #expect(replayed.connections.map(\.id).sorted() == [1, 2, 3])
        // Each probe was opened and closed again, with its recorded role.
        for id: UInt64 in [1, 3] {
            let c = replayed.connections.first { $0.id == id }
            #expect(c?.opened != nil && c?.closed != nil && c?.exchanges.isEmpty == true, "\(String(describing: c)) \(sink.records)")
        }
        #expect(replayed.connections.first { $0.id == 3 }?.nodeId == 1)
        let diff = CaptureDiff().compare(original, replayed)
        #expect(diff.isEquivalent, "\(diff.text())")
    }

    @Test func aReplayThatSkipsProbesIsNotEquivalent() {
        // What replay did before: the probes are missing from the run, and diff says so.
        let original = sessionWithProbes()
        let withoutProbes = RecordedSession(records: SessionBuilderRecords.dropping(connections: [1, 3], from: original))
        let diff = CaptureDiff().compare(original, withoutProbes)
        #expect(!diff.isEquivalent)
        #expect(diff.unpairedConnections == 2)
    }

    /// A broker that advertises node 1 at a port where nothing listens (as SeaweedFS's gateway
    /// advertises 127.0.0.1:9093 whatever port it has).
    func unreachableAdvertiser() async throws -> ScriptedBroker {
        let dead = Harness.freePort()
        return try await ScriptedBroker(group: group) { request in
            switch request.body {
            case is ApiVersionsRequest: return ApiVersionsResponse()
            case is MetadataRequest: return Messages.metadataResponse(brokers: [(1, dead)])
            case is FetchRequest: return Messages.fetchResponse(records: Messages.batch(["v0"]), highWatermark: 1)
            default: return nil
            }
        }
    }

    func sessionWithNodeConnection() -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        b.open(2, node: 1)
        b.exchange(2, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: Messages.batch(["v0"]), highWatermark: 1), apiKey: 1, version: 12, correlationId: 1)
        return b.session
    }

    @Test func targetNodeReachesANodeThatAdvertisesAnUnreachableAddress() async throws {
        let broker = try await unreachableAdvertiser()
        let target = HostPort(host: Self.local, port: broker.port)
        let without = await Replayer(
            session: sessionWithNodeConnection(), configuration: ReplayConfiguration(target: target, connectTimeoutMs: 1_000), group: group
        ).run()
        guard case .targetUnreachable(_, let connection, _)? = without.failure else {
            Issue.record("expected the advertised address to be unreachable, got \(String(describing: without.failure))")
            await broker.stop()
            return
        }
        #expect(connection == 2)
        let sink = MemorySink()
        let with = await Replayer(
            session: sessionWithNodeConnection(),
            configuration: ReplayConfiguration(target: target, targetNodes: NodeAddressMap(everyNode: target)), output: sink,
            group: group
        ).run()
        await broker.stop()
        #expect(with.failure == nil)
        #expect(with.completed)
        let replayed = RecordedSession(records: sink.records)
        #expect(replayed.connections.first { $0.id == 2 }?.opened?.upstreamAddress == target.description)
    }
}

/// Record-level edits of a built session.
enum SessionBuilderRecords {
    static func dropping(connections: Set<UInt64>, from session: RecordedSession) -> [CaptureRecord] {
        var out: [CaptureRecord] = []
        for c in session.connections where !connections.contains(c.id) {
            if let o = c.opened { out.append(.connectionOpened(o)) }
            for e in c.exchanges {
                out.append(.frame(e.request))
                if let r = e.response { out.append(.frame(r)) }
            }
            if let closed = c.closed { out.append(.connectionClosed(closed)) }
        }
        return out
    }
}

@Suite struct NodeAddressMapTests {
    @Test func parsesNodeIdsAndStar() throws {
        let map = try NodeAddressMap(parsing: ["1=127.0.0.1:9093", "*=127.0.0.1:19092", "1001=[::1]:9094"], option: "--x")
        #expect(map.address(forNode: 1) == HostPort(host: "127.0.0.1", port: 9093))
        #expect(map.address(forNode: 1001) == HostPort(host: "::1", port: 9094))
        #expect(map.address(forNode: 7) == HostPort(host: "127.0.0.1", port: 19092))
        #expect(map.description == "1=127.0.0.1:9093, 1001=[::1]:9094, *=127.0.0.1:19092")
        #expect(try NodeAddressMap(parsing: ["2=h:1"], option: "--x").address(forNode: 3) == nil)
    }

    @Test(arguments: ["1", "=127.0.0.1:1", "x=127.0.0.1:1", "1=127.0.0.1", "1=127.0.0.1:0", "1=127.0.0.1:70000", "**=h:1"])
    func rejects(_ spec: String) {
        #expect(throws: NodeAddressMapError.self) { try NodeAddressMap(parsing: [spec], option: "--target-node") }
    }

    @Test func rejectsANodeGivenTwice() {
        #expect(throws: NodeAddressMapError(option: "--x", spec: "1=h:2", duplicate: true)) {
            try NodeAddressMap(parsing: ["1=h:1", "1=h:2"], option: "--x")
        }
    }
}
