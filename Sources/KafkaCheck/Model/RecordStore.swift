/// What the capture saw at one offset: the record a Produce was assigned there, and the first record
/// a Fetch returned there (kept only when it differs from the produced one, or nothing was produced).
public struct OffsetEntry: Sendable {
    /// The record the Produce assigned this offset carried, when the capture saw it.
    public var produced: RecordDigest?
    /// Index in the model's reference table of the Produce, -1 when none.
    var producedRef: Int32 = -1
    /// The first fetched content, when it differs from `produced` or nothing was produced here.
    public var fetched: RecordDigest?
    /// Index of the first Fetch that returned this offset, -1 when none.
    var fetchedRef: Int32 = -1

    /// The content to compare against: produced, else first fetched.
    public var digest: RecordDigest? { produced ?? fetched }

    /// Whether the capture saw this offset at all.
    var isKnown: Bool { producedRef >= 0 || fetchedRef >= 0 }
}

/// The offsets of one partition, in chunks of 64 consecutive offsets: logs are dense, so this costs
/// about 100 bytes per offset seen (at least one 6 KB chunk per partition) and little rehashing as
/// a partition grows.
final class PartitionLog {
    private static let shift: Int64 = 6
    private static let size = 1 << 6

    private final class Chunk {
        var entries = [OffsetEntry](repeating: OffsetEntry(), count: PartitionLog.size)
    }

    private var chunks: [Int64: Chunk] = [:]

    /// The entry at `offset`, when the capture saw it.
    subscript(offset: Int64) -> OffsetEntry? {
        guard let chunk = chunks[offset >> Self.shift] else { return nil }
        let e = chunk.entries[Int(offset & Int64(Self.size - 1))]
        return e.isKnown ? e : nil
    }

    /// Changes the entry at `offset` in place (a fresh entry when there was none).
    func update<R>(_ offset: Int64, _ body: (inout OffsetEntry) -> R) -> R {
        let key = offset >> Self.shift
        let chunk: Chunk
        if let c = chunks[key] {
            chunk = c
        } else {
            chunk = Chunk()
            chunks[key] = chunk
        }
        return body(&chunk.entries[Int(offset & Int64(Self.size - 1))])
    }

    /// Every known entry in [from, to), in offset order.
    func entries(from: Int64 = .min, to: Int64 = .max) -> [(offset: Int64, entry: OffsetEntry)] {
        var out: [(Int64, OffsetEntry)] = []
        for key in chunks.keys.sorted() {
            let start = key << Self.shift
            guard start < to, start.adding(Int64(Self.size)) > from, let chunk = chunks[key] else { continue }
            for i in 0..<Self.size {
                let offset = start.adding(Int64(i))
                let e = chunk.entries[i]
                if e.isKnown && offset >= from && offset < to { out.append((offset, e)) }
            }
        }
        return out
    }

    /// The first known entry in [from, to) that satisfies `predicate`, in offset order.
    func first(from: Int64, to: Int64, where predicate: (OffsetEntry) -> Bool) -> (offset: Int64, entry: OffsetEntry)? {
        guard from < to else { return nil }
        for key in chunks.keys.sorted() {
            let start = key << Self.shift
            guard start < to, start.adding(Int64(Self.size)) > from, let chunk = chunks[key] else { continue }
            let lower = Int(Swift.max(0, Swift.min(Int64(Self.size), from.subtracting(start))))
            let upper = Int(Swift.max(0, Swift.min(Int64(Self.size), to.subtracting(start))))
            for i in lower..<Swift.max(lower, upper) {
                let e = chunk.entries[i]
                if e.isKnown && predicate(e) { return (start.adding(Int64(i)), e) }
            }
        }
        return nil
    }
}

/// Offsets per partition.
struct RecordStore {
    var partitions: [TopicPartition: PartitionLog] = [:]

    mutating func log(_ tp: TopicPartition) -> PartitionLog {
        if let l = partitions[tp] { return l }
        let l = PartitionLog()
        partitions[tp] = l
        return l
    }
}
