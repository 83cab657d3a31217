import KafkaProtocol

/// One field that differs between two messages: where, and the value on each side (nil: absent).
public struct FieldDifference: Hashable, Sendable {
    /// Where the field is, from the message root (`Topics[Name=orders].Partitions[PartitionIndex=0].ErrorCode`).
    public var path: FieldPath
    /// The value in capture A; nil when A has no such field.
    public var a: KafkaValue?
    /// The value in capture B; nil when B has no such field.
    public var b: KafkaValue?

    /// A difference at `path` between `a` and `b`.
    public init(path: FieldPath, a: KafkaValue?, b: KafkaValue?) {
        self.path = path
        self.a = a
        self.b = b
    }
}

/// Field-by-field comparison of two (normalised) trees. Objects are compared by field name, arrays
/// of objects by key (`ArrayKeys`) when both sides can be keyed the same way, else by position. An
/// element or field present on one side only is one difference at its path.
public enum ValueDiff {
    /// The fields that differ between `a` and `b`, in tree order, stopping after `limit`.
    public static func differences(_ a: KafkaValue, _ b: KafkaValue, limit: Int = .max) -> [FieldDifference] {
        var out: [FieldDifference] = []
        compare(a, b, path: .root, into: &out, limit: limit)
        return out
    }

    /// The number of differing leaves (for ranking candidates); stops counting at `limit`.
    public static func distance(_ a: KafkaValue, _ b: KafkaValue, limit: Int = .max) -> Int {
        differences(a, b, limit: limit).count
    }

    static func compare(_ a: KafkaValue, _ b: KafkaValue, path: FieldPath, into out: inout [FieldDifference], limit: Int) {
        guard out.count < limit else { return }
        switch (a, b) {
        case (.object(let oa), .object(let ob)):
            for f in oa.fields {
                let child = path.appending(field: f.name)
                if let vb = ob[f.name] {
                    compare(f.value, vb, path: child, into: &out, limit: limit)
                } else {
                    out.append(FieldDifference(path: child, a: f.value, b: nil))
                }
                if out.count >= limit { return }
            }
            for f in ob.fields where oa[f.name] == nil {
                out.append(FieldDifference(path: path.appending(field: f.name), a: nil, b: f.value))
            }
        case (.array(let ea), .array(let eb)):
            compareArrays(ea, eb, path: path, into: &out, limit: limit)
        case (.records(let ra), .records(let rb)):
            compare(MessageNormalizer.decodedRecords(ra), MessageNormalizer.decodedRecords(rb), path: path, into: &out, limit: limit)
        default:
            if a != b { out.append(FieldDifference(path: path, a: a, b: b)) }
        }
    }

    static func compareArrays(
        _ ea: [KafkaValue], _ eb: [KafkaValue], path: FieldPath, into out: inout [FieldDifference], limit: Int
    ) {
        let keyField = ArrayKeys.keyField(forEach: [ea, eb])
        guard let keyField else {
            for i in 0..<max(ea.count, eb.count) {
                let child = path.appending(index: i, key: nil)
                switch (i < ea.count ? ea[i] : nil, i < eb.count ? eb[i] : nil) {
                case (let va?, let vb?): compare(va, vb, path: child, into: &out, limit: limit)
                case (let va?, nil): out.append(FieldDifference(path: child, a: va, b: nil))
                case (nil, let vb?): out.append(FieldDifference(path: child, a: nil, b: vb))
                case (nil, nil): break
                }
                if out.count >= limit { return }
            }
            return
        }
        var indexB: [String: Int] = [:]
        for (i, e) in eb.enumerated() {
            if let k = ArrayKeys.key(of: e, field: keyField) { indexB[k.value] = i }
        }
        var matchedB: Set<Int> = []
        for (i, va) in ea.enumerated() {
            let key = ArrayKeys.key(of: va, field: keyField)
            let child = path.appending(index: i, key: key)
            if let k = key, let j = indexB[k.value] {
                matchedB.insert(j)
                compare(va, eb[j], path: child, into: &out, limit: limit)
            } else {
                out.append(FieldDifference(path: child, a: va, b: nil))
            }
            if out.count >= limit { return }
        }
        for (j, vb) in eb.enumerated() where !matchedB.contains(j) {
            out.append(FieldDifference(path: path.appending(index: j, key: ArrayKeys.key(of: vb, field: keyField)), a: nil, b: vb))
        }
    }
}
