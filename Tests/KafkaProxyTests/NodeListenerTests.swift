#if canImport(Glibc)
import Glibc
#endif
import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import KafkaProxy
@testable import KafkaTapeTestSupport

/// No bypass: a node listener whose port is taken falls back to a free port (warning, event) instead of
/// leaving the broker's own address in the answer; a `--node-port` that cannot be bound fails the start.
@Suite(.serialized) struct NodeListenerTests {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    @Test func derivedPortsAreOneToOneForEveryNodeIdThatFits() {
        let c = ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 19092), upstream: HostPort(host: "127.0.0.1", port: 9092))
        #expect(c.derivedNodePort(nodeId: 0, bootstrapPort: 19092) == 19093)
        #expect(c.derivedNodePort(nodeId: 1, bootstrapPort: 19092) == 19094)
        // Kafka's auto-assigned ids start at 1001: predictable too, and never the port of a small id.
        #expect(c.derivedNodePort(nodeId: 1001, bootstrapPort: 19092) == 20094)
        #expect(c.derivedNodePort(nodeId: 46442, bootstrapPort: 19092) == 65535)
        #expect(c.derivedNodePort(nodeId: 46443, bootstrapPort: 19092) == nil, "past 65535: a free port")
        #expect(c.derivedNodePort(nodeId: -1, bootstrapPort: 19092) == nil)
        let ports = (0..<3000).compactMap { c.derivedNodePort(nodeId: Int32($0), bootstrapPort: 19092) }
        #expect(Set(ports).count == ports.count)
        var explicit = c
        explicit.nodePorts = [1001: 30000]
        #expect(explicit.derivedNodePort(nodeId: 1001, bootstrapPort: 19092) == 30000)
    }

    @Test func aTakenNodePortFallsBackToAFreePortWithAWarningAndAnEvent() async throws {
        let brokers = NIOLockedValueBox<[(Int32, Int)]>([])
        let node = try await ScriptedBroker(group: group) { request in
            switch request.body {
            case is MetadataRequest: return ProxyFakeBrokerTests.metadata(brokers: brokers.withLockedValue { $0 })
            case is ApiVersionsRequest: return ApiVersionsResponse()
            default: return nil
            }
        }
        brokers.withLockedValue { $0 = [(1, node.port)] }
        // Node 1's derived port (bootstrap + 2) is held by someone else.
        var attempt = 0
        var setup: (proxy: KafkaProxyServer, squatter: RawKafkaListener, bootstrap: Int)?
        let sink = MemoryCaptureSink()
        let warnings = NIOLockedValueBox<[String]>([])
        while setup == nil && attempt < 20 {
            attempt += 1
            let bootstrap = Harness.freePort()
            guard bootstrap + 2 <= 65535, let squatter = try? RawKafkaListener(port: bootstrap + 2) else { continue }
            let proxy = KafkaProxyServer(
                configuration: ProxyConfiguration(
                    listen: HostPort(host: "127.0.0.1", port: bootstrap), upstream: HostPort(host: "127.0.0.1", port: node.port)),
                capture: sink, group: group, onWarning: { w in warnings.withLockedValue { $0.append(w) } })
            guard (try? await proxy.start()) != nil else { continue }
            setup = (proxy, squatter, bootstrap)
        }
        let (proxy, squatter, bootstrap) = try #require(setup)
        let client = try RawKafkaSocket(port: bootstrap)
        var request = MetadataRequest()
        request.topics = nil
        try client.send(request: request, apiKey: 3, version: 12, correlationId: 1)
        let answer = try #require(try client.readFrame())
        let md = try #require(try KafkaFrameCodec.decodeResponse(answer, apiKey: 3, apiVersion: 12).body as? MetadataResponse)
        let port = try #require(md.brokers.first?.port)
        #expect(Int(port) != squatter.port, "the answer points at a port the proxy does not own")
        #expect(Int(port) != node.port, "the answer lets the client bypass the proxy")
        #expect(proxy.nodePorts[1] == Int(port))
        #expect(warnings.withLockedValue { $0 }.contains { $0.contains("node 1") && $0.contains("port \(squatter.port)") })
        let event = try #require(sink.events.first { $0.kind == "node-port-fallback" })
        #expect(event.attributes.contains(.init("wantedPort", "\(squatter.port)")))
        // The fallback port really leads to node 1 through the proxy.
        let direct = try RawKafkaSocket(port: Int(port))
        try direct.send(request: ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 2)
        #expect(try direct.readFrame().flatMap(KafkaFrameCodec.responseCorrelationId) == 2)
        await proxy.stop()
        await node.stop()
    }

    @Test func anExplicitNodePortIsBoundAtStartAndATakenOneFailsTheStart() async throws {
        let squatter = try RawKafkaListener()
        let failing = KafkaProxyServer(
            configuration: ProxyConfiguration(
                listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: 9),
                nodePorts: [3: squatter.port]),
            capture: MemoryCaptureSink(), group: group)
        await #expect(throws: NodeListenerError.self) { try await failing.start() }

        let wanted = Harness.freePort()
        let proxy = KafkaProxyServer(
            configuration: ProxyConfiguration(
                listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: 9),
                nodePorts: [3: wanted]),
            capture: MemoryCaptureSink(), group: group)
        try await proxy.start()
        #expect(proxy.nodePorts == [3: wanted], "bound before any broker named node 3")
        #expect(throws: TestFailure.self) { try RawKafkaListener(port: wanted) }
        await proxy.stop()
    }
}
