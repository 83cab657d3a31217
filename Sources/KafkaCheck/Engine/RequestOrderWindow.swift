import KafkaCapture

/// Exchanges in request order, like `ExchangeTracker(ordering: .requestOrder)`, but with bounded memory.
///
/// In strict request order one request that is never answered on a connection that stays open holds
/// back every later exchange until the capture ends, and held frames keep their reader chunks alive:
/// memory would grow to the capture's size. This window holds completed exchanges until every older
/// request has completed, unless they hold more than `maxHeldBytes` of frames or the first of them
/// has waited `maxLagNs` of capture time; then it releases them in request order, skipping the
/// requests still outstanding (those are passed on whenever they complete, late). The engine notes how
/// often that happened; the invariants' "before/after" judgements then use capture times, which stay
/// right, while the few checks that assume request order may miss a comparison.
struct RequestOrderWindow {
    private var tracker = ExchangeTracker(ordering: .completionOrder)
    private var held: [Int: Exchange] = [:]
    private var heldBytes = 0
    private var heldSince: UInt64?
    private var nextSequence = 0
    let maxHeldBytes: Int
    let maxLagNs: UInt64
    /// How many times exchanges were released past an outstanding request.
    private(set) var forcedReleases = 0

    init(maxHeldBytes: Int = 64 << 20, maxLagNs: UInt64 = 120_000_000_000) {
        self.maxHeldBytes = maxHeldBytes
        self.maxLagNs = maxLagNs
    }

    mutating func process(_ record: CaptureRecord) -> [ExchangeEvent] {
        var out: [ExchangeEvent] = []
        take(tracker.process(record), into: &out)
        drain(now: record.time.monotonicNs, force: false, into: &out)
        return out
    }

    mutating func finish() -> [ExchangeEvent] {
        var out: [ExchangeEvent] = []
        take(tracker.finish(), into: &out)
        drain(now: .max, force: true, into: &out)
        return out
    }

    private mutating func take(_ events: [ExchangeEvent], into out: inout [ExchangeEvent]) {
        for event in events {
            guard case .exchange(let e) = event else {
                out.append(event)
                continue
            }
            if e.sequence < nextSequence {
                out.append(event)  // released late: its successors went ahead of it
                continue
            }
            if held.isEmpty { heldSince = e.request.time.monotonicNs }
            held[e.sequence] = e
            heldBytes += e.request.payload.readableBytes + (e.response?.payload.readableBytes ?? 0)
        }
    }

    private mutating func drain(now: UInt64, force: Bool, into out: inout [ExchangeEvent]) {
        while true {
            while let e = held.removeValue(forKey: nextSequence) {
                heldBytes -= e.request.payload.readableBytes + (e.response?.payload.readableBytes ?? 0)
                out.append(.exchange(e))
                nextSequence += 1
            }
            if held.isEmpty {
                heldBytes = 0
                heldSince = nil
                return
            }
            let waited = heldSince.map { now > $0 && now - $0 > maxLagNs } ?? false
            guard force || heldBytes > maxHeldBytes || waited, let oldest = held.keys.min() else { return }
            if !force { forcedReleases += 1 }
            nextSequence = oldest
            heldSince = now
        }
    }
}
