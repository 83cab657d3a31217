/// The largest value known per partition as of a point in time, where values become known at a
/// time (a response's capture time) that may lie after the exchange that carries them was seen.
///
/// Exchanges arrive in request order, so an answer can become known after later requests were sent.
/// `add` queues a value with the time it became known; `value(_:before:)` folds every queued value
/// known before the given time into the settled maximum. Queries come with non-decreasing times
/// (capture order), so folded values never need unfolding, and the queue holds only answers still
/// in flight.
struct TimedMaximum {
    struct Entry {
        var value: Int64
        var knownAt: UInt64
        var by: ExchangeReference
    }

    private var settled: [TopicPartition: Entry] = [:]
    private var pending: [TopicPartition: [Entry]] = [:]

    /// Records that `value` was known for `tp` from `knownAt` on.
    mutating func add(_ tp: TopicPartition, _ value: Int64, knownAt: UInt64, by: ExchangeReference, now: UInt64) {
        pending[tp, default: []].append(Entry(value: value, knownAt: knownAt, by: by))
        fold(tp, before: now)
    }

    /// The largest value known for `tp` strictly before `time`, with the exchange that reported it.
    mutating func value(_ tp: TopicPartition, before time: UInt64) -> Entry? {
        fold(tp, before: time)
        return settled[tp]
    }

    private mutating func fold(_ tp: TopicPartition, before time: UInt64) {
        guard var list = pending[tp], !list.isEmpty else { return }
        var best = settled[tp]
        list.removeAll { e in
            guard e.knownAt < time else { return false }
            if best == nil || e.value > (best?.value ?? .min) { best = e }
            return true
        }
        settled[tp] = best
        pending[tp] = list.isEmpty ? nil : list
    }
}
