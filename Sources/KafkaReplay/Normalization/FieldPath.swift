import KafkaProtocol

/// The key that identifies an element of a keyed array: the field it is keyed by and that field's
/// value as text (`Name=orders`, `PartitionIndex=0`).
public struct ElementKey: Hashable, Sendable {
    /// The key field's spec name (`Name`, `PartitionIndex`).
    public var name: String
    /// Its value as text.
    public var value: String

    /// A key from its field name and value text.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// One step into a `KafkaValue` tree: a named field of an object, or an element of an array (with
/// the key it is matched by, when the array is keyed).
public enum FieldPathComponent: Hashable, Sendable {
    /// A field of an object, by spec name.
    case field(String)
    /// An element of an array: its position, and its key when the array is keyed.
    case element(index: Int, key: ElementKey?)
}

/// A concrete location in a decoded message, written the way reports show it:
/// `Responses[Topic=orders].Partitions[PartitionIndex=0].HighWatermark`. Elements of keyed arrays
/// show their key, others their position (`Brokers[0]`).
public struct FieldPath: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// The steps from the message root, outermost first.
    public var components: [FieldPathComponent]

    /// A path of `components` (empty: the message itself).
    public init(_ components: [FieldPathComponent] = []) {
        self.components = components
    }

    /// The message itself.
    public static let root = FieldPath()

    /// This path one field deeper.
    public func appending(field name: String) -> FieldPath {
        FieldPath(components + [.field(name)])
    }

    /// This path into an array element.
    public func appending(index: Int, key: ElementKey?) -> FieldPath {
        FieldPath(components + [.element(index: index, key: key)])
    }

    /// The last field name on the path (the leaf's name, for a scalar).
    public var lastFieldName: String? {
        for c in components.reversed() {
            if case .field(let n) = c { return n }
        }
        return nil
    }

    /// The path as reports show it; `(message)` for the root.
    public var description: String {
        var s = ""
        for c in components {
            switch c {
            case .field(let n):
                if !s.isEmpty { s += "." }
                s += n
            case .element(let index, let key):
                if let key { s += "[\(key.name)=\(key.value)]" } else { s += "[\(index)]" }
            }
        }
        return s.isEmpty ? "(message)" : s
    }

    /// Orders paths by their text, so reports list differences stably.
    public static func < (a: FieldPath, b: FieldPath) -> Bool { a.description < b.description }
}

extension KafkaValue {
    /// A short text for a scalar, as keys and reports show it: numbers and booleans as they are,
    /// strings without quotes, UUIDs in Kafka's base64url form, bytes as UTF-8 when printable.
    var keyText: String? {
        switch self {
        case .int(let i): return String(i)
        case .string(let s): return s
        case .uuid(let u): return u.description
        case .bool(let b): return String(b)
        case .null: return "null"
        case .bytes(let b):
            if case .object(let o) = KafkaJSON.bytesValue(b), let t = o["utf8"]?.stringValue { return t }
            return nil
        default: return nil
        }
    }

    /// The value at a concrete path (positions only; keys are informational), or nil.
    public func value(at path: FieldPath) -> KafkaValue? {
        var current = self
        for c in path.components {
            switch c {
            case .field(let name):
                guard case .object(let o) = current, let v = o[name] else { return nil }
                current = v
            case .element(let index, _):
                guard case .array(let a) = current, a.indices.contains(index) else { return nil }
                current = a[index]
            }
        }
        return current
    }

    /// The tree with the value at `path` replaced (positions only), or nil when the path does not exist.
    public func replacing(at path: FieldPath, with replacement: KafkaValue) -> KafkaValue? {
        replacing(path.components[...], with: replacement)
    }

    private func replacing(_ rest: ArraySlice<FieldPathComponent>, with replacement: KafkaValue) -> KafkaValue? {
        guard let first = rest.first else { return replacement }
        switch (first, self) {
        case (.field(let name), .object(var o)):
            guard let i = o.fields.firstIndex(where: { $0.name == name }),
                let v = o.fields[i].value.replacing(rest.dropFirst(), with: replacement)
            else { return nil }
            o.fields[i].value = v
            return .object(o)
        case (.element(let index, _), .array(var a)):
            guard a.indices.contains(index), let v = a[index].replacing(rest.dropFirst(), with: replacement) else {
                return nil
            }
            a[index] = v
            return .array(a)
        default:
            return nil
        }
    }
}
