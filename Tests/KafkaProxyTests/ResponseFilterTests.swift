import KafkaCapture
import KafkaEndpoints
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

    /// The filters that would decode a response of `api`: every one that wants it but the capture tap,
    /// which takes bytes.
    static func decoding(_ filters: [any ResponseFilter], _ api: ResponseInFlight.API?) -> [String] {
        names(filters.filter { !($0 is CaptureFilter) }, wanting: api)
    }

    @Test func byDefaultOnlyRedactionAndRewritingAndOnlyForTheirAPIs() throws {
        let f = try Self.filters()
        #expect(f.map { "\(type(of: $0))" } == ["RedactionFilter", "RewriteFilter", "CaptureFilter"])
        #expect(Self.decoding(f, .init(key: 1, version: 12)) == [], "Fetch v12 carries no addresses: nobody decodes it")
        #expect(Self.decoding(f, .init(key: 1, version: 16)) == ["RewriteFilter"], "Fetch v16+ has leader hints")
        #expect(Self.decoding(f, .init(key: 3, version: 12)) == ["RewriteFilter"])
        #expect(Self.decoding(f, .init(key: 36, version: 2)) == ["RedactionFilter"])
        #expect(Self.decoding(f, .init(key: 18, version: 3)) == [])
        #expect(Self.decoding(f, nil) == [], "an unmatched response goes through as bytes")
        #expect(Self.names(f, wanting: nil) == ["CaptureFilter"], "and is captured")
        #expect(f.filter { $0.changesWhatTheClientGets }.map { "\(type(of: $0))" } == ["RewriteFilter"])
    }

    @Test func keepCredentialsDropsRedactionAndNoRewriteDropsRewriting() throws {
        let f = try Self.filters(keepCredentials: true, faults: [try ProxyFault(spec: "no-rewrite")])
        #expect(f.map { "\(type(of: $0))" } == ["FaultFilter", "CaptureFilter"])
        #expect(Self.decoding(f, .init(key: 3, version: 12)) == ["FaultFilter"])
        #expect(Self.decoding(f, nil) == [])
    }

    @Test func triggersComeLastAndSeeEveryResponse() throws {
        let f = try Self.filters(ringBytes: 4096, triggers: [.check("I13")])
        #expect(f.map { "\(type(of: $0))" } == ["RedactionFilter", "RewriteFilter", "CaptureFilter", "TriggerFilter"])
        #expect(f.last?.afterDelivery == true)
        #expect(f.dropLast().allSatisfy { !$0.afterDelivery })
        #expect(Self.decoding(f, nil) == ["TriggerFilter"])
    }

    /// The capture tap is a filter like the others: the one at-delivery stage, wanting every response
    /// (matched or not, any API and version), never changing what the client gets (so it does not stop
    /// cut-through), whatever the configuration.
    @Test func captureIsTheAtDeliveryFilterAndWantsEverything() throws {
        for f in [
            try Self.filters(), try Self.filters(keepCredentials: true),
            try Self.filters(faults: [try ProxyFault(spec: "delay:Fetch:10")]),
            try Self.filters(ringBytes: 4096, triggers: [.disconnect]),
        ] {
            let atDelivery = f.filter { $0.stage == .atDelivery }
            #expect(atDelivery.map { "\(type(of: $0))" } == ["CaptureFilter"])
            let stages = f.map { $0.stage }
            #expect(stages == stages.sorted { Self.rank($0) < Self.rank($1) }, "before, at, then after delivery")
        }
        let capture = CaptureFilter()
        #expect(!capture.changesWhatTheClientGets)
        for api in [ResponseInFlight.API(key: 0, version: 11), .init(key: 1, version: 17), .init(key: 999, version: 99), nil] {
            #expect(capture.wants(api))
        }
    }

    static func rank(_ stage: ResponseFilterStage) -> Int {
        switch stage {
        case .beforeDelivery: 0
        case .atDelivery: 1
        case .afterDelivery: 2
        }
    }

    /// What the capture stores for a response: the bytes the filters before it left in `captured`
    /// (here redacted), the length the client got on the wire, its flags and the delivery time.
    @Test func captureRecordsTheCapturedBytesAtDeliveryTime() throws {
        var header = ResponseHeader()
        header.correlationId = 7
        var body = SaslAuthenticateResponse()
        body.authBytes = ByteBuffer(string: "server-final")
        let frame = KafkaFrameCodec.encodeResponse(header: header, body: body, apiKey: 36, apiVersion: 2)
        let pending = CorrelationTracker.Pending(correlationId: 7, apiKey: 36, apiVersion: 2, sentMonotonicNs: 0)
        var r = ResponseInFlight(frame: frame, match: .inOrder(pending), time: CaptureTimestamp(monotonicNs: 1, wallNs: 1))
        let loop = EmbeddedEventLoop()
        let sink = MemoryCaptureSink()
        let server = KafkaProxyServer(
            configuration: ProxyConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), upstream: HostPort(host: "127.0.0.1", port: 9)),
            capture: sink, group: loop)
        let channel = EmbeddedChannel(loop: loop)
        let connection = server.registerConnection(client: channel, nodeId: nil)
        RedactionFilter().filter(&r, connection)
        r.time = CaptureTimestamp(monotonicNs: 5_000_000, wallNs: 42)
        CaptureFilter().filter(&r, connection)
        let recorded = try #require(sink.frames.last)
        #expect(recorded.direction == .response)
        #expect(recorded.connectionId == connection.id)
        #expect(recorded.flags.contains(.redacted))
        #expect(recorded.payload == r.captured)
        #expect(recorded.payload != frame, "the capture holds the redacted copy")
        #expect(recorded.wireLength == UInt32(frame.readableBytes), "the length the client got")
        #expect(recorded.time == CaptureTimestamp(monotonicNs: 5_000_000, wallNs: 42))
        #expect(r.toClient == frame, "the client's bytes are untouched")
        _ = try channel.finish(acceptAlreadyClosed: true)
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
