/// Latencies counted in logarithmic buckets, so `stats` needs the same memory for ten exchanges or ten
/// million (64 KiB per API) instead of keeping every latency. Values below 128 ns are exact; above,
/// each power of two is split in 128 buckets, so a percentile is off by at most 1/256 (0.4%) of its
/// value. The maximum is kept exactly.
public struct LatencyHistogram: Sendable {
    private static let subBuckets = 128
    private static let subBits = 7
    /// 128 exact values, then 128 buckets for each of the 57 powers of two from 2^7 to 2^63.
    private var counts = [Int](repeating: 0, count: subBuckets + (64 - subBits) * subBuckets)
    /// Values added.
    public private(set) var count = 0
    /// The largest value added (exact), nil when empty.
    public private(set) var maximum: Int64?

    /// An empty histogram.
    public init() {}

    /// Counts one latency in nanoseconds (negative values count as 0).
    public mutating func add(_ ns: Int64) {
        let v = max(0, ns)
        counts[Self.bucket(v)] += 1
        count += 1
        maximum = Swift.max(maximum ?? v, v)
    }

    /// The value at rank ⌈p·count⌉ (nearest rank), as the middle of its bucket; the maximum for p = 1.
    public func percentile(_ p: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = Swift.max(1, Swift.min(count, Int((p * Double(count)).rounded(.up))))
        if rank == count { return maximum }
        var seen = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return Swift.min(Self.middle(of: index), maximum ?? Int64.max) }
        }
        return maximum
    }

    static func bucket(_ v: Int64) -> Int {
        if v < Int64(subBuckets) { return Int(v) }
        let exponent = 63 - v.leadingZeroBitCount  // ≥ 7
        let sub = Int((v >> (exponent - subBits)) & Int64(subBuckets - 1))
        return subBuckets + (exponent - subBits) * subBuckets + sub
    }

    static func middle(of index: Int) -> Int64 {
        if index < subBuckets { return Int64(index) }
        let exponent = (index - subBuckets) / subBuckets + subBits
        let sub = Int64((index - subBuckets) % subBuckets)
        let shift = exponent - subBits
        let low = (Int64(subBuckets) + sub) << shift
        return low + (Int64(1) << shift) / 2
    }
}
