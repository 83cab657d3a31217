import KafkaProtocol
import NIOCore

/// Finds tagged fields that are present in a decoded message but hold their schema default.
///
/// The generated structs model every tagged field as an Optional that is nil when absent, so the
/// schema default is not in the type. It is derived at runtime instead:
/// - Which fields are tagged: a default-constructed struct (`T()`) renders every non-tagged field of
///   a version and none of the tagged ones (they are nil). A field in a decoded struct's rendering
///   that `T()`'s rendering lacks is a tagged field that was sent.
/// - Its default: for a struct, the rendering of `T()` of its type (Kafka writes a tagged struct only
///   when it differs from the struct's defaults); for an array, empty; for a nullable field, null;
///   for numbers, booleans, strings, bytes and UUIDs, zero/false/empty; except where the spec names
///   another default (`explicitDefaults`, checked against the specs by the tests).
/// Reflection (`Mirror` on `T()`) runs once per type and version, to learn which fields hold structs
/// and which types can contain tagged fields at all; messages are then walked through their generated
/// rendering (`kafkaValue(version:)`), and subtrees whose types have no tagged fields are skipped.
final class TaggedFieldLint {
    struct Hit: Hashable {
        /// `FetchResponse.Responses.Partitions.CurrentLeader` (no indices).
        var fieldPath: String
        /// The value as JSON.
        var value: String
    }

    /// Tagged fields whose spec default is not the type's zero, keyed `Type.property` (Kafka specs
    /// 4.2.1 and 3.9); the value is the default as `String(describing:)` shows it (`nil` for null).
    static let explicitDefaults: [String: String] = [
        "ApiVersionsResponse.finalizedFeaturesEpoch": "-1",
        "FetchRequest.FetchPartition.highWatermark": "9223372036854775807",
        "FetchRequest.clusterId": "nil",
        "FetchSnapshotRequest.clusterId": "nil",
    ]

    private struct PlanKey: Hashable {
        var type: ObjectIdentifier
        var version: Int16
    }

    private struct Plan {
        var typeName: String
        /// Lower-cased names of the fields `T()` renders (the non-tagged fields of the version).
        var untagged: Set<String>
        /// Whether `T()` has nil properties it does not render (possible tagged fields).
        var mayHaveTagged: Bool
        /// Struct types of fields that hold structs with work to do, by lower-cased field name.
        var nested: [String: any KafkaStruct.Type]
        /// `T()`'s rendering.
        var defaultRendering: KafkaValue
        var hasWork: Bool { mayHaveTagged || !nested.isEmpty }
    }

    private var plans: [PlanKey: Plan] = [:]
    private var building: Set<PlanKey> = []

    /// Every present tagged field holding its default, anywhere in `message`.
    func defaults(in message: any KafkaStruct, version: Int16, root: String) -> [Hit] {
        let plan = self.plan(for: type(of: message), version: version)
        guard plan.hasWork else { return [] }
        var hits: [Hit] = []
        walk(message.kafkaValue(version: version), plan, version: version, path: root, into: &hits)
        return hits
    }

    private func walk(_ value: KafkaValue, _ plan: Plan, version: Int16, path: String, into hits: inout [Hit]) {
        switch value {
        case .array(let elements):
            for e in elements { walk(e, plan, version: version, path: path, into: &hits) }
        case .object(let o):
            for f in o.fields where f.name != "_unknownTaggedFields" {
                let lower = f.name.lowercased()
                let nested = plan.nested[lower]
                if plan.mayHaveTagged && !plan.untagged.contains(lower)
                    && isDefault(f.value, plan: plan, field: lower, nested: nested, version: version)
                {
                    hits.append(Hit(fieldPath: path + "." + f.name, value: KafkaJSON.render(f.value)))
                }
                if let nested {
                    let inner = self.plan(for: nested, version: version)
                    if inner.hasWork { walk(f.value, inner, version: version, path: path + "." + f.name, into: &hits) }
                }
            }
        default:
            break
        }
    }

    private func isDefault(_ value: KafkaValue, plan: Plan, field: String, nested: (any KafkaStruct.Type)?, version: Int16) -> Bool {
        if let expected = explicitDefault(plan.typeName, field) {
            switch value {
            case .null: return expected == "nil"
            case .int(let v): return String(v) == expected
            case .bool(let b): return String(b) == expected
            case .string(let s): return s == expected
            default: return false
            }
        }
        switch value {
        case .null: return true
        case .bool(let b): return !b
        case .int(let v): return v == 0
        case .double(let d): return d == 0
        case .string(let s): return s.isEmpty
        case .uuid(let u): return u == .zero
        case .bytes(let b), .records(let b): return b.readableBytes == 0
        case .array(let a): return a.isEmpty
        case .object:
            guard let nested else { return false }
            return value == self.plan(for: nested, version: version).defaultRendering
        }
    }

    private var explicitByField: [String: [String: String]] = {
        var out: [String: [String: String]] = [:]
        for (key, value) in TaggedFieldLint.explicitDefaults {
            guard let dot = key.lastIndex(of: ".") else { continue }
            out[String(key[..<dot]), default: [:]][String(key[key.index(after: dot)...]).lowercased()] = value
        }
        return out
    }()

    private func explicitDefault(_ typeName: String, _ field: String) -> String? {
        explicitByField[typeName]?[field]
    }

    // MARK: - Plans

    private func plan(for type: any KafkaStruct.Type, version: Int16) -> Plan {
        let key = PlanKey(type: ObjectIdentifier(type), version: version)
        if let p = plans[key] { return p }
        var name = String(reflecting: type)
        if name.hasPrefix("KafkaProtocol.") { name.removeFirst("KafkaProtocol.".count) }
        let blank = Self.makeDefault(type)
        let rendering = blank.kafkaValue(version: version)
        guard building.insert(key).inserted else {
            return Plan(typeName: name, untagged: [], mayHaveTagged: false, nested: [:], defaultRendering: rendering)
        }
        defer { building.remove(key) }
        var untagged: Set<String> = []
        if case .object(let o) = rendering {
            for f in o.fields { untagged.insert(f.name.lowercased()) }
        }
        var mayHaveTagged = false
        var nested: [String: any KafkaStruct.Type] = [:]
        for child in Mirror(reflecting: blank).children {
            guard let label = child.label, label != "unknownTaggedFields" else { continue }
            let lower = label.lowercased()
            let isNil = (child.value as? any OptionalValue).map { $0.wrappedValue == nil } ?? false
            if isNil && !untagged.contains(lower) { mayHaveTagged = true }
            if let inner = Self.structType(Swift.type(of: child.value)) {
                let innerPlan = self.plan(for: inner, version: version)
                // A tagged struct field needs its type for its default even when it has no work inside.
                if innerPlan.hasWork || !untagged.contains(lower) { nested[lower] = inner }
            }
        }
        let plan = Plan(typeName: name, untagged: untagged, mayHaveTagged: mayHaveTagged, nested: nested, defaultRendering: rendering)
        plans[key] = plan
        return plan
    }

    private static func makeDefault(_ type: any KafkaStruct.Type) -> any KafkaStruct { type.init() }

    /// The struct type a property of this static type can hold (directly, optionally or in arrays).
    private static func structType(_ t: Any.Type) -> (any KafkaStruct.Type)? {
        if let s = t as? any KafkaStruct.Type { return s }
        if let o = t as? any OptionalValue.Type { return structType(o.wrappedType) }
        if let a = t as? any ArrayValue.Type { return structType(a.elementType) }
        return nil
    }
}

/// Lets reflection look inside Optionals without knowing their wrapped type.
protocol OptionalValue {
    static var wrappedType: Any.Type { get }
    var wrappedValue: Any? { get }
}

extension Optional: OptionalValue {
    static var wrappedType: Any.Type { Wrapped.self }
    var wrappedValue: Any? {
        switch self {
        case .some(let w): return w
        case .none: return nil
        }
    }
}

/// Lets reflection see array element types.
protocol ArrayValue {
    static var elementType: Any.Type { get }
}

extension Array: ArrayValue {
    static var elementType: Any.Type { Element.self }
}
