import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaProxy

/// The connection state machine without sockets: every lifecycle input in every state, the legacy
/// SASL flow for each mechanism shape, and the frame/idle deadlines with times passed in.
@Suite struct ProxyConnectionStateMachineTests {
    typealias Machine = ProxyConnectionStateMachine
    static let ms: UInt64 = 1_000_000

    static func forwarding(frameMs: UInt64? = nil, idleMs: UInt64? = nil, now: UInt64 = 0) -> Machine {
        var m = Machine(timeouts: .init(frameNs: frameMs.map { $0 * ms }, idleNs: idleMs.map { $0 * ms }), now: now)
        _ = m.clientActive()
        _ = m.upstreamConnected(at: now)
        return m
    }

    static func request(_ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32) -> ByteBuffer {
        var header = RequestHeader()
        header.requestApiKey = apiKey
        header.requestApiVersion = version
        header.correlationId = correlationId
        header.clientId = "t"
        return KafkaFrameCodec.encodeRequest(header: header, body: body)
    }

    static func handshake(_ mechanism: String, correlationId: Int32 = 1) -> ByteBuffer {
        var r = SaslHandshakeRequest()
        r.mechanism = mechanism
        return request(r, apiKey: 17, version: 0, correlationId: correlationId)
    }

    static func handshakeResponse(errorCode: Int16, correlationId: Int32 = 1) -> ByteBuffer {
        var header = ResponseHeader()
        header.correlationId = correlationId
        var r = SaslHandshakeResponse()
        r.errorCode = errorCode
        r.mechanisms = ["PLAIN", "SCRAM-SHA-256"]
        return KafkaFrameCodec.encodeResponse(header: header, body: r, apiKey: 17, apiVersion: 0)
    }

    static let apiVersions = request(ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 9)

    // MARK: Lifecycle

    @Test func connectsThenForwards() {
        var m = Machine(timeouts: .init(frameNs: nil, idleNs: nil), now: 0)
        #expect(m.state == .initialized)
        #expect(m.clientActive() == .connectUpstream)
        #expect(m.state == .connecting)
        #expect(m.clientActive() == .none, "a second activation connects nothing")
        #expect(m.upstreamConnected(at: 0) == .startForwarding(timerAtNs: nil))
        #expect(m.state == .forwarding(.kafka))
        #expect(m.upstreamConnected(at: 0) == .none)
    }

    @Test func theFirstCloseWinsAndIsTheOnlyOne() {
        for first in [Machine.Side.client, .upstream] {
            var m = Self.forwarding()
            let action = m.sideClosed(first)
            let expected: ConnectionCloser = first == .client ? .client : .broker
            guard case .close(let c) = action else {
                Issue.record("expected a close, got \(action)")
                continue
            }
            #expect(c.by == expected)
            #expect(m.state == .closed(expected))
            #expect(m.sideClosed(first == .client ? .upstream : .client) == .none)
            #expect(m.close(.init(by: .proxy, reason: "late", event: nil)) == .none)
            #expect(m.isClosed)
        }
    }

    @Test func anUpstreamThatConnectsAfterTheClientLeftIsClosed() {
        var m = Machine(timeouts: .init(frameNs: nil, idleNs: nil), now: 0)
        _ = m.clientActive()
        _ = m.sideClosed(.client)
        #expect(m.upstreamConnected(at: 5) == .closeLateUpstream)
        #expect(m.state == .closed(.client))
    }

    @Test func aFailedUpstreamConnectClosesByTheProxy() {
        var m = Machine(timeouts: .init(frameNs: nil, idleNs: nil), now: 0)
        _ = m.clientActive()
        #expect(m.upstreamConnectFailed("down") == .close(.init(by: .proxy, reason: "down", event: nil)))
        #expect(m.upstreamConnectFailed("again") == .none)
    }

    @Test func closingBeforeActivationStillCountsOnce() {
        var m = Machine(timeouts: .init(frameNs: nil, idleNs: nil), now: 0)
        #expect(m.close(.init(by: .proxy, reason: "shutdown", event: nil)) != .none)
        #expect(m.clientActive() == .none, "a closed connection never connects upstream")
    }

    // MARK: Legacy SASL

    @Test func plainLegacyFlowHasOneTokenEachWay() {
        var m = Self.forwarding()
        #expect(m.clientFrame(Self.handshake("PLAIN")) == .request)
        #expect(m.state == .forwarding(.handshakeV0Sent(correlationId: 1, mechanism: "PLAIN")))
        #expect(m.brokerFrame(Self.handshakeResponse(errorCode: 0)) == .response)
        #expect(m.inSaslTokenExchange)
        // A PLAIN token is "\0user\0password": never read as a Kafka header.
        #expect(m.clientFrame(ByteBuffer(string: "\u{0}alice\u{0}secret")) == .saslToken)
        #expect(m.brokerFrame(ByteBuffer()) == .saslToken)
        #expect(m.state == .forwarding(.kafka))
        #expect(m.clientFrame(Self.apiVersions) == .request)
    }

    @Test func scramLegacyFlowHasTwoRoundTrips() {
        var m = Self.forwarding()
        _ = m.clientFrame(Self.handshake("SCRAM-SHA-512"))
        _ = m.brokerFrame(Self.handshakeResponse(errorCode: 0))
        #expect(m.clientFrame(ByteBuffer(string: "n,,n=alice,r=nonce")) == .saslToken)
        #expect(m.brokerFrame(ByteBuffer(string: "r=nonce2,s=salt,i=4096")) == .saslToken)
        #expect(m.inSaslTokenExchange)
        // client-final carries the proof; it looks nothing like Kafka but must not be judged by looks.
        #expect(m.clientFrame(Self.apiVersions) == .saslToken, "a SCRAM token is a token whatever its bytes")
        #expect(m.brokerFrame(ByteBuffer(string: "v=signature")) == .saslToken)
        #expect(m.state == .forwarding(.kafka))
    }

    @Test func aBrokerFrameWithoutAClientTokenBeforeItIsAResponse() {
        var m = Self.forwarding()
        _ = m.clientFrame(Self.handshake("PLAIN"))
        _ = m.brokerFrame(Self.handshakeResponse(errorCode: 0))
        #expect(m.brokerFrame(ByteBuffer(string: "unprompted")) == .response)
        #expect(m.inSaslTokenExchange)
    }

    @Test func unknownMechanismsEndAtTheFirstWellFormedRequest() {
        var m = Self.forwarding()
        _ = m.clientFrame(Self.handshake("GSSAPI"))
        _ = m.brokerFrame(Self.handshakeResponse(errorCode: 0))
        // GSSAPI tokens start with ASN.1 0x60: no Kafka API key.
        for _ in 0..<3 {
            #expect(m.clientFrame(ByteBuffer(bytes: [0x60, 0x82, 0x01, 0x00, 0x06, 0x09, 0x2a, 0x86, 0x48])) == .saslToken)
            #expect(m.brokerFrame(ByteBuffer(bytes: [0x60, 0x10, 0x01, 0x02])) == .saslToken)
        }
        #expect(m.inSaslTokenExchange)
        #expect(m.clientFrame(Self.apiVersions) == .request)
        #expect(m.state == .forwarding(.kafka))
    }

    @Test func aRefusedHandshakeKeepsKafkaFraming() {
        var m = Self.forwarding()
        _ = m.clientFrame(Self.handshake("PLAIN"))
        // UNSUPPORTED_SASL_MECHANISM (33)
        #expect(m.brokerFrame(Self.handshakeResponse(errorCode: 33)) == .response)
        #expect(m.state == .forwarding(.kafka))
        #expect(m.clientFrame(ByteBuffer(string: "\u{0}alice\u{0}secret")) == .request)
    }

    @Test func handshakeV1UsesSaslAuthenticateFramesNotRawTokens() {
        var m = Self.forwarding()
        var r = SaslHandshakeRequest()
        r.mechanism = "PLAIN"
        #expect(m.clientFrame(Self.request(r, apiKey: 17, version: 1, correlationId: 1)) == .request)
        #expect(m.state == .forwarding(.kafka))
    }

    @Test func anotherResponseWhileTheHandshakeIsOutstandingChangesNothing() {
        var m = Self.forwarding()
        _ = m.clientFrame(Self.handshake("PLAIN", correlationId: 4))
        #expect(m.brokerFrame(Self.handshakeResponse(errorCode: 0, correlationId: 3)) == .response)
        #expect(m.state == .forwarding(.handshakeV0Sent(correlationId: 4, mechanism: "PLAIN")))
    }

    // MARK: Deadlines

    @Test func idleTimeoutFiresOnlyAfterSilence() {
        var m = Self.forwarding(idleMs: 100, now: 0)
        #expect(m.bytesRead(from: .client, at: 50 * Self.ms, partialFrame: false) == .none, "the armed timer re-checks")
        // The timer armed at 100 ms finds activity at 50 ms: re-arm for 150 ms.
        #expect(m.timerFired(at: 100 * Self.ms) { _ in false } == .schedule(atNs: 150 * Self.ms))
        guard case .close(let c) = m.timerFired(at: 150 * Self.ms, readingPaused: { _ in false }) else {
            Issue.record("idle connection not closed")
            return
        }
        #expect(c.by == .proxy && c.event == "idle-timeout")
        #expect(m.isClosed)
        #expect(m.timerFired(at: 200 * Self.ms) { _ in false } == .none)
    }

    @Test func aPartialFrameMustCompleteInTime() {
        var m = Self.forwarding(frameMs: 30, idleMs: 1000, now: 0)
        // Half a header: the deadline moves earlier than the idle one, so the timer is re-armed.
        #expect(m.bytesRead(from: .client, at: 10 * Self.ms, partialFrame: true) == .schedule(atNs: 40 * Self.ms))
        // More bytes of the same frame do not extend it.
        #expect(m.bytesRead(from: .client, at: 20 * Self.ms, partialFrame: true) == .none)
        guard case .close(let c) = m.timerFired(at: 40 * Self.ms, readingPaused: { _ in false }) else {
            Issue.record("slow frame not closed")
            return
        }
        #expect(c.event == "frame-timeout")
        #expect(c.reason.contains("client"))
    }

    @Test func aCompletedFrameClearsItsDeadline() {
        var m = Self.forwarding(frameMs: 30, idleMs: 1000, now: 0)
        _ = m.bytesRead(from: .upstream, at: 10 * Self.ms, partialFrame: true)
        _ = m.bytesRead(from: .upstream, at: 20 * Self.ms, partialFrame: false)
        #expect(m.timerFired(at: 40 * Self.ms) { _ in false } == .schedule(atNs: 1020 * Self.ms))
        #expect(!m.isClosed)
    }

    @Test func aFrameTheProxyItselfHoldsBackIsNotOverdue() {
        var m = Self.forwarding(frameMs: 30, now: 0)
        _ = m.bytesRead(from: .upstream, at: 0, partialFrame: true)
        // The client is slow, so the proxy stopped reading the broker: the broker is not at fault.
        #expect(m.timerFired(at: 30 * Self.ms) { $0 == .upstream } == .schedule(atNs: 60 * Self.ms))
        guard case .close(let c) = m.timerFired(at: 60 * Self.ms, readingPaused: { _ in false }) else {
            Issue.record("not closed once reading resumed and the frame still did not complete")
            return
        }
        #expect(c.reason.contains("broker"))
    }

    @Test func noTimeoutsNoTimer() {
        var m = Self.forwarding()
        #expect(m.bytesRead(from: .client, at: 1, partialFrame: true) == .none)
        #expect(m.timerFired(at: UInt64.max / 2) { _ in false } == .none)
        #expect(!m.isClosed)
    }

    @Test func deadlinesIgnoreConnectionsNotForwarding() {
        var m = Machine(timeouts: .init(frameNs: 1, idleNs: 1), now: 0)
        #expect(m.bytesRead(from: .client, at: 10, partialFrame: true) == .none)
        #expect(m.timerFired(at: 100) { _ in false } == .none)
        _ = m.clientActive()
        #expect(m.timerFired(at: 100) { _ in false } == .none, "connecting has its own connect timeout")
    }
}
