import KafkaCapture
import KafkaProtocol
import NIOCore

/// The life of one proxied connection as a pure state machine, in postgres-nio's
/// `ConnectionStateMachine` shape: a nested `State`, one `mutating` method per input, each returning
/// what `ProxyConnection` must do. No I/O and no clock (times come in as arguments), so every path is
/// tested without sockets.
///
/// It owns three things: the lifecycle (connect the upstream, forward, close exactly once and say who
/// closed), how client and broker frames are to be read while the legacy SASL flow runs, and the
/// frame-completion and idle deadlines.
struct ProxyConnectionStateMachine {
    enum Side: Hashable, Sendable { case client, upstream }

    enum State: Equatable {
        /// Accepted; the upstream connection has not been asked for.
        case initialized
        /// Connecting to the upstream; nothing is read from the client until it is up.
        case connecting
        /// Both sides up: frames flow.
        case forwarding(SaslPhase)
        /// Closed, by whom. Nothing leaves this state.
        case closed(ConnectionCloser)
    }

    /// The legacy SASL flow (KIP-43, SaslHandshake v0): once the broker accepts the handshake, client
    /// and broker exchange raw SASL tokens framed only by a 4-byte size, with no Kafka header, until
    /// authentication completes. SaslHandshake v1+ wraps tokens in SaslAuthenticate frames instead.
    enum SaslPhase: Equatable {
        /// Ordinary Kafka requests and responses.
        case kafka
        /// A SaslHandshake v0 request is outstanding.
        case handshakeV0Sent(correlationId: Int32, mechanism: String)
        /// Raw tokens flow: how many each side sent so far.
        case tokens(mechanism: String, fromClient: Int, fromBroker: Int)
    }

    /// A frame from the client is a Kafka request, or an opaque SASL token of the legacy flow.
    enum ClientFrame: Equatable {
        case request
        case saslToken
    }

    /// A frame from the broker is a Kafka response, or an opaque SASL token of the legacy flow.
    enum BrokerFrame: Equatable {
        case response
        case saslToken
    }

    /// How and why the connection closes; `event` is the capture event kind to record first, if any.
    struct Closing: Equatable {
        var by: ConnectionCloser
        var reason: String
        var event: EventRecord.Kind?
    }

    enum LifecycleAction: Equatable {
        case none
        case connectUpstream
        /// The upstream is up: let both sides read, and arm the timer.
        case startForwarding(timerAtNs: UInt64?)
        /// The upstream came up after the connection closed: close it at once.
        case closeLateUpstream
        case close(Closing)
    }

    enum TimerAction: Equatable {
        case none
        /// (Re)arm the single timer for this absolute monotonic time.
        case schedule(atNs: UInt64)
        case close(Closing)
    }

    /// Zero or nil disables a timeout.
    struct Timeouts: Equatable {
        var frameNs: UInt64?
        var idleNs: UInt64?
    }

    /// SASL mechanisms whose legacy exchange has a known number of broker tokens on success (PLAIN
    /// and OAUTHBEARER answer once, SCRAM twice: server-first and server-final). On failure the
    /// broker closes the connection. Other mechanisms (GSSAPI) end when a client frame is a
    /// well-formed Kafka request.
    static let brokerTokensByMechanism: [String: Int] = [
        "PLAIN": 1, "OAUTHBEARER": 1, "SCRAM-SHA-256": 2, "SCRAM-SHA-512": 2,
    ]

    private(set) var state: State = .initialized
    let timeouts: Timeouts
    private var lastActivityNs: UInt64
    private var partialSinceNs: [Side: UInt64] = [:]
    private var armedAtNs: UInt64?

    init(timeouts: Timeouts, now: UInt64) {
        self.timeouts = timeouts
        lastActivityNs = now
    }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// True while raw SASL tokens, not Kafka frames, flow.
    var inSaslTokenExchange: Bool {
        if case .forwarding(.tokens) = state { return true }
        return false
    }

    // MARK: Lifecycle

    mutating func clientActive() -> LifecycleAction {
        guard case .initialized = state else { return .none }
        state = .connecting
        return .connectUpstream
    }

    mutating func upstreamConnected(at now: UInt64) -> LifecycleAction {
        switch state {
        case .connecting:
            state = .forwarding(.kafka)
            lastActivityNs = now
            let at = nextDeadline()
            armedAtNs = at
            return .startForwarding(timerAtNs: at)
        case .closed:
            return .closeLateUpstream
        case .initialized, .forwarding:
            return .none
        }
    }

    mutating func upstreamConnectFailed(_ reason: String) -> LifecycleAction {
        close(Closing(by: .proxy, reason: reason, event: nil))
    }

    /// A channel went inactive.
    mutating func sideClosed(_ side: Side) -> LifecycleAction {
        switch side {
        case .client: return close(Closing(by: .client, reason: "client closed the connection", event: nil))
        case .upstream: return close(Closing(by: .broker, reason: "broker closed the connection", event: nil))
        }
    }

    /// Anyone asks to close (an error, a fault, a refused frame, shutdown). Only the first close counts.
    mutating func close(_ closing: Closing) -> LifecycleAction {
        if case .closed = state { return .none }
        state = .closed(closing.by)
        armedAtNs = nil
        return .close(closing)
    }

    // MARK: Frames

    /// A whole frame from the client: a request, or a SASL token of the legacy flow.
    mutating func clientFrame(_ frame: ByteBuffer) -> ClientFrame {
        guard case .forwarding(let phase) = state else { return .request }
        switch phase {
        case .kafka:
            if let prefix = KafkaRequestPrefix(payload: frame), prefix.apiKey == 17, prefix.apiVersion == 0 {
                let mechanism = (try? KafkaFrameCodec.decodeRequest(frame).body as? SaslHandshakeRequest)?.mechanism ?? ""
                state = .forwarding(.handshakeV0Sent(correlationId: prefix.correlationId, mechanism: mechanism))
            }
            return .request
        case .handshakeV0Sent:
            // Kafka clients wait for the handshake's answer; anything else is a request of its own.
            return .request
        case .tokens(let mechanism, let fromClient, let fromBroker):
            if Self.brokerTokensByMechanism[mechanism] == nil, Self.isWellFormedRequest(frame) {
                state = .forwarding(.kafka)
                return clientFrame(frame)
            }
            state = .forwarding(.tokens(mechanism: mechanism, fromClient: fromClient + 1, fromBroker: fromBroker))
            return .saslToken
        }
    }

    /// A whole frame from the broker: a response, or a SASL token of the legacy flow.
    mutating func brokerFrame(_ frame: ByteBuffer) -> BrokerFrame {
        guard case .forwarding(let phase) = state else { return .response }
        switch phase {
        case .kafka:
            return .response
        case .handshakeV0Sent(let correlationId, let mechanism):
            guard KafkaFrameCodec.responseCorrelationId(frame) == correlationId else { return .response }
            // SaslHandshake v0 response: header v0 (correlation id), then the error code.
            let errorCode = frame.getInteger(at: frame.readerIndex + 4, endianness: .big, as: Int16.self)
            state = .forwarding(errorCode == 0 ? .tokens(mechanism: mechanism, fromClient: 0, fromBroker: 0) : .kafka)
            return .response
        case .tokens(let mechanism, let fromClient, let fromBroker):
            // Lock-step: the broker answers a token it was sent, never more.
            guard fromBroker < fromClient else { return .response }
            let sent = fromBroker + 1
            if let expected = Self.brokerTokensByMechanism[mechanism], sent >= expected {
                state = .forwarding(.kafka)
            } else {
                state = .forwarding(.tokens(mechanism: mechanism, fromClient: fromClient, fromBroker: sent))
            }
            return .saslToken
        }
    }

    static func isWellFormedRequest(_ frame: ByteBuffer) -> Bool {
        guard let prefix = KafkaRequestPrefix(payload: frame),
            KafkaAPIs.descriptor(apiKey: prefix.apiKey)?.versions.contains(prefix.apiVersion) == true
        else { return false }
        return (try? KafkaFrameCodec.decodeRequest(frame)) != nil
    }

    // MARK: Deadlines

    /// Bytes were read from `side`; `partialFrame` says whether an incomplete frame is left buffered.
    mutating func bytesRead(from side: Side, at now: UInt64, partialFrame: Bool) -> TimerAction {
        guard case .forwarding = state else { return .none }
        lastActivityNs = now
        if partialFrame {
            if partialSinceNs[side] == nil { partialSinceNs[side] = now }
        } else {
            partialSinceNs[side] = nil
        }
        // Deadlines only move later on activity, except a new partial frame's; the armed timer
        // re-checks when it fires, so re-arm only when the next deadline moved earlier.
        guard let at = nextDeadline() else { return .none }
        if let armed = armedAtNs, armed <= at { return .none }
        armedAtNs = at
        return .schedule(atNs: at)
    }

    /// The timer fired. `readingPaused` says whether the proxy itself holds back reads on a side
    /// (backpressure): a frame the proxy is not reading is not the peer's fault, so its clock restarts.
    mutating func timerFired(at now: UInt64, readingPaused: (Side) -> Bool) -> TimerAction {
        guard case .forwarding = state else { return .none }
        armedAtNs = nil
        if let frameNs = timeouts.frameNs, frameNs > 0 {
            for side in [Side.client, .upstream] {
                guard let since = partialSinceNs[side], now >= since &+ frameNs else { continue }
                if readingPaused(side) {
                    partialSinceNs[side] = now
                    continue
                }
                let who = side == .client ? "client" : "broker"
                let closing = Closing(
                    by: .proxy,
                    reason: "\(who) did not complete a frame within \(frameNs / 1_000_000) ms (--frame-timeout)",
                    event: "frame-timeout")
                _ = close(closing)
                return .close(closing)
            }
        }
        if let idleNs = timeouts.idleNs, idleNs > 0, now >= lastActivityNs &+ idleNs {
            let closing = Closing(
                by: .proxy, reason: "no bytes either way for \(idleNs / 1_000_000) ms (--idle-timeout)", event: "idle-timeout")
            _ = close(closing)
            return .close(closing)
        }
        guard let at = nextDeadline() else { return .none }
        armedAtNs = at
        return .schedule(atNs: at)
    }

    private func nextDeadline() -> UInt64? {
        var at: UInt64?
        if let idleNs = timeouts.idleNs, idleNs > 0 { at = lastActivityNs &+ idleNs }
        if let frameNs = timeouts.frameNs, frameNs > 0 {
            for since in partialSinceNs.values {
                let d = since &+ frameNs
                at = min(at ?? d, d)
            }
        }
        return at
    }
}
