import NIOCore

/// The correlation ids of one connection's requests, with when each was answered, to tell whether a
/// new request reuses an id that is still outstanding (I13).
///
/// Constant time per request: a dictionary by id for the lookup, and a queue in request order that
/// drops entries once their answer lies before the newest request (responses mostly come back in
/// order, so the queue stays as short as the connection's pipeline). Requests that are never answered
/// (the capture or connection ended) stay in the dictionary only; acks=0 Produce requests are not
/// outstanding at all (no answer comes, KIP-98's `acks` semantics), so they are never stored, which
/// keeps a stream of a million of them linear.
struct OutstandingCorrelations {
    private struct Entry {
        var until: UInt64
        var serial: Int
        var by: ExchangeReference
    }

    private var byId: [Int32: Entry] = [:]
    private var queue = CircularBuffer<(correlationId: Int32, until: UInt64, serial: Int)>()
    private var serial = 0

    /// Entries still kept (for tests: it must stay bounded).
    var count: Int { byId.count }

    /// The earlier request with `correlationId` that was still unanswered at `now`, after dropping
    /// entries answered before `now`.
    mutating func outstanding(_ correlationId: Int32, at now: UInt64) -> ExchangeReference? {
        while let first = queue.first, first.until < now {
            queue.removeFirst()
            if byId[first.correlationId]?.serial == first.serial { byId[first.correlationId] = nil }
        }
        guard let e = byId[correlationId], e.until >= now else { return nil }
        return e.by
    }

    /// Remembers a request answered at `until` (`.max`: never).
    mutating func insert(_ correlationId: Int32, until: UInt64, by: ExchangeReference) {
        serial += 1
        byId[correlationId] = Entry(until: until, serial: serial, by: by)
        if until != .max { queue.append((correlationId, until, serial)) }
    }
}
