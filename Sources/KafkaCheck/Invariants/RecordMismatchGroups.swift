/// Record mismatches of one exchange, grouped per partition, with the offsets written compactly.
struct RecordMismatchGroup {
    var partition: TopicPartition
    var mismatches: [RecordMismatch]

    static func group(_ list: [RecordMismatch]) -> [RecordMismatchGroup] {
        var order: [TopicPartition] = []
        var byPartition: [TopicPartition: [RecordMismatch]] = [:]
        for m in list {
            if byPartition[m.partition] == nil { order.append(m.partition) }
            byPartition[m.partition, default: []].append(m)
        }
        return order.map { RecordMismatchGroup(partition: $0, mismatches: byPartition[$0] ?? []) }
    }

    var first: RecordMismatch? { mismatches.first }

    /// `5`, `5-7` or `5-7, 9 (4 offsets)`.
    var offsetsText: String { Self.compact(mismatches.map(\.offset)) }

    /// The distinct exchanges involved, the violating one first, at most `limit`.
    func exchanges(limit: Int = 4) -> [ExchangeReference] {
        var out: [ExchangeReference] = []
        for m in mismatches {
            for r in [m.actualBy, m.expectedBy] where !out.contains(r) { out.append(r) }
            if out.count >= limit { break }
        }
        return Array(out.prefix(limit))
    }

    static func compact(_ offsets: [Int64]) -> String {
        let sorted = Array(Set(offsets)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count && parts.count < 6 {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j].adding(1) && sorted[j] != .max { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        var text = parts.joined(separator: ", ")
        if i < sorted.count { text += ", ..." }
        return sorted.count > 1 ? "\(text) (\(sorted.count) offsets)" : text
    }

    /// What differs between two digests, in words.
    static func difference(_ expected: RecordDigest, _ actual: RecordDigest) -> String {
        var parts: [String] = []
        if expected.valueLength != actual.valueLength || expected.valuePreview != actual.valuePreview {
            parts.append("value \(expected.valueDescription) became \(actual.valueDescription)")
        }
        if expected.keyLength != actual.keyLength {
            parts.append("key of \(lengthText(expected.keyLength)) became \(lengthText(actual.keyLength))")
        }
        if parts.isEmpty { parts.append("key, value or header bytes differ (same lengths)") }
        return parts.joined(separator: "; ")
    }

    static func lengthText(_ n: Int32) -> String { n < 0 ? "null" : n == 0 ? "empty" : "\(n) bytes" }
}
