import KafkaCapture
import NIOCore

/// A response between the broker and the client, as the `ResponseFilter`s see and change it.
struct ResponseInFlight {
    /// The request a response answers: what filters select on.
    struct API: Hashable {
        var key: Int16
        var version: Int16
    }

    /// The broker's bytes, never changed.
    let frame: ByteBuffer
    /// The request it answers, if one matched.
    let pending: CorrelationTracker.Pending?
    let match: CorrelationTracker.ResponseMatch
    /// When it arrived; for the at-delivery filters, when it was sent to the client.
    var time: CaptureTimestamp
    /// What the client gets (a fault may change it).
    var toClient: ByteBuffer
    /// What the capture stores (redacted, or what a fault made of it).
    var captured: ByteBuffer
    var flags: FrameFlags = []
    /// Hold the response this long before delivering it (`delay` fault).
    var delayMs = 0
    /// Send it after the next response (`reorder-responses`).
    var holdForReorder = false
    /// Close the connection instead of answering (`drop-connection`).
    var closeReason: String?
    /// Rewrite broker addresses on delivery.
    var rewriteAddresses = false

    init(frame: ByteBuffer, match: CorrelationTracker.ResponseMatch, time: CaptureTimestamp) {
        self.frame = frame
        self.match = match
        self.pending = match.pending
        self.time = time
        toClient = frame
        captured = frame
    }

    var api: API? { pending.map { API(key: $0.apiKey, version: $0.apiVersion) } }
}
