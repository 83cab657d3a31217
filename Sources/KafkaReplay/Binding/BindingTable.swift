import KafkaProtocol
import NIOCore

/// One substitution in a message: the value at `path` goes from `old` to `new`.
public struct ValueEdit: Hashable, Sendable {
    /// Where in the message the value is.
    public var path: FieldPath
    /// The recorded value.
    public var old: KafkaValue
    /// The value the replay target assigned.
    public var new: KafkaValue
    /// The binding kind that asked for it (`producerId`, `memberId`, ...).
    public var kind: String

    /// An edit of `path` from `old` to `new`, for binding kind `kind`.
    public init(path: FieldPath, old: KafkaValue, new: KafkaValue, kind: String) {
        self.path = path
        self.old = old
        self.new = new
        self.kind = kind
    }
}

/// What replay knows so far: per binding kind, recorded value -> value the replay target assigned.
///
/// `learn` walks a recorded response and the replayed response side by side (arrays matched by key,
/// never by a bound field, since those differ by design) and records every pair of values found in
/// a kind's response fields. `edits` walks a request and lists every field of a kind whose recorded
/// value has a different replay value, plus the record batches whose producer id or epoch must
/// follow (`KafkaRecords.rewriteProducer` rewrites them in place and recomputes the CRC).
public struct BindingTable: Sendable {
    /// The kinds this table learns and substitutes.
    public let kinds: [BindingKind]
    /// Per kind name: recorded value -> replayed value.
    public private(set) var maps: [String: [KafkaValue: KafkaValue]] = [:]
    private let responseFieldKinds: [String: [BindingKind]]
    private let requestFieldKinds: [String: [BindingKind]]
    private let boundFields: Set<String>

    /// A table that knows nothing yet, for `kinds`.
    public init(kinds: [BindingKind] = BindingKind.all) {
        self.kinds = kinds
        var resp: [String: [BindingKind]] = [:]
        var req: [String: [BindingKind]] = [:]
        for k in kinds {
            for f in k.responseFields { resp[f, default: []].append(k) }
            for f in k.requestFields { req[f, default: []].append(k) }
        }
        responseFieldKinds = resp
        requestFieldKinds = req
        boundFields = Set(kinds.flatMap { $0.responseFields.union($0.requestFields) })
    }

    /// The replay value for a recorded value of a kind, when it is known.
    public func mapped(_ kind: BindingKind, _ value: KafkaValue) -> KafkaValue? {
        maps[kind.name]?[value]
    }

    /// Whether any learned value differs from its recorded value (when none does, requests go out
    /// byte for byte without being decoded).
    public var hasSubstitutions: Bool {
        maps.values.contains { $0.contains { $0.key != $0.value } }
    }

    /// A learned pair.
    public struct Learned: Hashable, Sendable {
        /// The binding kind's name.
        public var kind: String
        /// The value in the recorded response.
        public var recorded: KafkaValue
        /// The value in the replayed response.
        public var replayed: KafkaValue
    }

    /// Learns every bound value from a response pair; returns the pairs that were new or changed.
    @discardableResult
    public mutating func learn(recorded: KafkaValue, replayed: KafkaValue) -> [Learned] {
        var out: [Learned] = []
        walk(recorded, replayed, into: &out)
        return out
    }

    private mutating func walk(_ a: KafkaValue, _ b: KafkaValue, into out: inout [Learned]) {
        switch (a, b) {
        case (.object(let oa), .object(let ob)):
            for f in oa.fields {
                guard let vb = ob[f.name] else { continue }
                if let ks = responseFieldKinds[f.name], isScalar(f.value), isScalar(vb) {
                    for k in ks where !k.sentinels.contains(f.value) && !k.sentinels.contains(vb) {
                        if maps[k.name]?[f.value] != vb {
                            maps[k.name, default: [:]][f.value] = vb
                            out.append(Learned(kind: k.name, recorded: f.value, replayed: vb))
                        }
                    }
                } else {
                    walk(f.value, vb, into: &out)
                }
            }
        case (.array(let ea), .array(let eb)):
            if let key = ArrayKeys.keyField(forEach: [ea, eb], excluded: boundFields) {
                var byKey: [String: KafkaValue] = [:]
                for e in eb { if let k = ArrayKeys.key(of: e, field: key) { byKey[k.value] = e } }
                for e in ea {
                    if let k = ArrayKeys.key(of: e, field: key), let other = byKey[k.value] { walk(e, other, into: &out) }
                }
            } else {
                for (x, y) in zip(ea, eb) { walk(x, y, into: &out) }
            }
        default:
            return
        }
    }

    private func isScalar(_ v: KafkaValue) -> Bool {
        switch v {
        case .int, .string, .uuid, .bool, .null: return true
        default: return false
        }
    }

    /// Every substitution the request needs, in tree order.
    public func edits(for request: KafkaValue) -> [ValueEdit] {
        var out: [ValueEdit] = []
        collect(request, path: .root, into: &out)
        return out
    }

    private func collect(_ v: KafkaValue, path: FieldPath, into out: inout [ValueEdit]) {
        switch v {
        case .object(let o):
            for f in o.fields {
                let child = path.appending(field: f.name)
                if let ks = requestFieldKinds[f.name], isScalar(f.value) {
                    for k in ks {
                        if let new = maps[k.name]?[f.value], new != f.value {
                            out.append(ValueEdit(path: child, old: f.value, new: new, kind: k.name))
                            break
                        }
                    }
                } else {
                    collect(f.value, path: child, into: &out)
                }
            }
        case .array(let a):
            for (i, e) in a.enumerated() { collect(e, path: path.appending(index: i, key: nil), into: &out) }
        case .records(let buffer):
            if let rewritten = rewrittenProducer(buffer) {
                out.append(ValueEdit(path: path, old: v, new: .records(rewritten), kind: "producerId"))
            }
        default:
            return
        }
    }

    /// The records with the replay's producer id and epoch, when the first idempotent batch's
    /// recorded ones were replaced; nil when nothing changes.
    func rewrittenProducer(_ buffer: ByteBuffer) -> ByteBuffer? {
        guard let set = try? KafkaRecords.decode(buffer, verifyCRC: false),
            let batch = set.batches.first(where: { $0.magic >= 2 && $0.producerId >= 0 })
        else { return nil }
        let id = maps[BindingKind.producerId.name]?[.int(batch.producerId)]?.intValue ?? batch.producerId
        let epoch = maps[BindingKind.producerEpoch.name]?[.int(Int64(batch.producerEpoch))]?.intValue ?? Int64(batch.producerEpoch)
        guard id != batch.producerId || epoch != Int64(batch.producerEpoch), let e16 = Int16(exactly: epoch) else { return nil }
        return try? KafkaRecords.rewriteProducer(buffer, producerId: id, producerEpoch: e16)
    }
}
