import KafkaCapture
import KafkaProtocol
import NIOCore
import NIOEmbedded
import Testing

@testable import KafkaProxy

/// The response filter chain: which filters a configuration installs, and which of them want which
/// API and version (a response no filter wants is forwarded as bytes, never decoded, and may be
/// streamed cut-through).
@Suite struct ResponseFilterTests {
    static func filters(
        keepCredentials: Bool = false, faults: [ProxyFault] = [], ringBytes: Int? = nil, triggers: [FlightTrigger] = []
    ) throws -> [any ResponseFilter] {
        let loop = EmbeddedEventLoop()
        let config = ProxyConfiguration(
            listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: 9),
            keepCredentials: keepCredentials, faults: faults, ringBytes: ringBytes, triggers: triggers)
        let server = KafkaProxyServer(configuration: config, capture: nil, group: loop)
        let channel = EmbeddedChannel(loop: loop)
        let connection = server.registerConnection(client: channel, nodeId: nil)
        let filters = connection.responseFilters
        _ = try channel.finish(acceptAlreadyClosed: true)
        return filters
    }

    static func names(_ filters: [any ResponseFilter], wanting api: ResponseInFlight.API?) -> [String] {
        filters.filter { $0.wants(api) }.map { "\(type(of: $0))" }
    }

    @Test func byDefaultOnlyRedactionAndRewritingAndOnlyForTheirAPIs() throws {
        let f = try Self.filters()
        #expect(f.map { "\(type(of: $0))" } == ["RedactionFilter", "RewriteFilter"])
        #expect(Self.names(f, wanting: .init(key: 1, version: 12)) == [], "Fetch v12 carries no addresses: nobody decodes it")
        #expect(Self.names(f, wanting: .init(key: 1, version: 16)) == ["RewriteFilter"], "Fetch v16+ has leader hints")
        #expect(Self.names(f, wanting: .init(key: 3, version: 12)) == ["RewriteFilter"])
        #expect(Self.names(f, wanting: .init(key: 36, version: 2)) == ["RedactionFilter"])
        #expect(Self.names(f, wanting: .init(key: 18, version: 3)) == [])
        #expect(Self.names(f, wanting: nil) == [], "an unmatched response goes through as bytes")
        #expect(f.filter { $0.changesWhatTheClientGets }.map { "\(type(of: $0))" } == ["RewriteFilter"])
    }

    @Test func keepCredentialsDropsRedactionAndNoRewriteDropsRewriting() throws {
        let f = try Self.filters(keepCredentials: true, faults: [try ProxyFault(spec: "no-rewrite")])
        #expect(f.map { "\(type(of: $0))" } == ["FaultFilter"])
        #expect(Self.names(f, wanting: .init(key: 3, version: 12)) == ["FaultFilter"])
        #expect(Self.names(f, wanting: nil) == [])
    }

    @Test func triggersComeLastAndSeeEveryResponse() throws {
        let f = try Self.filters(ringBytes: 4096, triggers: [.check("I13")])
        #expect(f.map { "\(type(of: $0))" } == ["RedactionFilter", "RewriteFilter", "TriggerFilter"])
        #expect(f.last?.afterDelivery == true)
        #expect(f.dropLast().allSatisfy { !$0.afterDelivery })
        #expect(Self.names(f, wanting: nil) == ["TriggerFilter"])
    }

    @Test func redactionChangesOnlyTheCapturedCopy() throws {
        var header = ResponseHeader()
        header.correlationId = 3
        var body = SaslAuthenticateResponse()
        body.authBytes = ByteBuffer(string: "server-final")
        let frame = KafkaFrameCodec.encodeResponse(header: header, body: body, apiKey: 36, apiVersion: 2)
        let pending = CorrelationTracker.Pending(correlationId: 3, apiKey: 36, apiVersion: 2, sentMonotonicNs: 0)
        var r = ResponseInFlight(frame: frame, match: .inOrder(pending), time: CaptureTimestamp(monotonicNs: 0, wallNs: 0))
        let loop = EmbeddedEventLoop()
        let server = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: 9)),
            capture: nil, group: loop)
        let channel = EmbeddedChannel(loop: loop)
        let connection = server.registerConnection(client: channel, nodeId: nil)
        RedactionFilter().filter(&r, connection)
        #expect(r.toClient == frame)
        #expect(r.flags.contains(.redacted))
        let captured = try #require(try KafkaFrameCodec.decodeResponse(r.captured, apiKey: 36, apiVersion: 2).body as? SaslAuthenticateResponse)
        #expect(captured.authBytes == CredentialRedactor.marker)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}
