import NIOCore

/// A decoded message as a generic tree: what JSON rendering, diff and checks walk. Objects keep the
/// schema's field order, so rendering is deterministic; field names are exactly Kafka's.
public indirect enum KafkaValue: Hashable, Sendable {
    /// A null field (nullable strings, bytes, arrays and structs).
    case null
    /// A `bool` field.
    case bool(Bool)
    /// Any integer field (int8 to int64, uint16, uint32), widened so that comparisons ignore the wire width.
    case int(Int64)
    /// A `float64` field.
    case double(Double)
    /// A `string` field.
    case string(String)
    /// A `bytes` field, rendered as base64 in JSON.
    case bytes(ByteBuffer)
    /// A `uuid` field (topic ids, KIP-516).
    case uuid(KafkaUUID)
    /// A `records` field: raw record batches, decoded when rendered.
    case records(ByteBuffer)
    /// An array field, in wire order.
    case array([KafkaValue])
    /// A struct, with its fields in schema order.
    case object(KafkaObject)

    /// The field `name` of an object; nil for a missing field or a value that is not an object.
    public subscript(_ name: String) -> KafkaValue? {
        if case .object(let o) = self { return o[name] }
        return nil
    }

    /// The integer, or nil for any other kind of value.
    public var intValue: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    /// The string, or nil for any other kind of value (null included).
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// The elements, or nil for any other kind of value (a null array included).
    public var arrayValue: [KafkaValue]? {
        if case .array(let v) = self { return v }
        return nil
    }
}

/// An ordered list of named fields.
public struct KafkaObject: Hashable, Sendable {
    /// One named field of an object.
    public struct Field: Hashable, Sendable {
        /// The field's name as in Kafka's spec (`TopicName`, `ErrorCode`).
        public var name: String
        /// The field's value.
        public var value: KafkaValue

        /// A field named `name` with `value`.
        @inlinable
        public init(name: String, value: KafkaValue) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in schema order (names can repeat only in hand-built objects).
    public var fields: [Field]

    /// An object with no fields.
    public init() {
        fields = []
    }

    /// An object with these fields, in this order.
    public init(_ pairs: [(String, KafkaValue)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Adds a field at the end (generated renderers call it in schema order).
    @inlinable
    public mutating func append(_ name: String, _ value: KafkaValue) {
        fields.append(Field(name: name, value: value))
    }

    /// The first field called `name`, or nil.
    public subscript(_ name: String) -> KafkaValue? {
        fields.first { $0.name == name }?.value
    }
}

/// Types that render into a `KafkaValue`. Generated structs conform; so do the primitives.
public protocol KafkaRenderable {
    /// The value as a tree; `version` decides which fields exist (a field absent in this version is left out).
    func kafkaValue(version: Int16) -> KafkaValue
}

extension Int8: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .int(Int64(self)) } }
extension Int16: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .int(Int64(self)) } }
extension Int32: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .int(Int64(self)) } }
extension Int64: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .int(self) } }
extension UInt16: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .int(Int64(self)) } }
extension UInt32: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .int(Int64(self)) } }
extension Bool: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .bool(self) } }
extension Double: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .double(self) } }
extension String: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .string(self) } }
extension KafkaUUID: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .uuid(self) } }
extension ByteBuffer: KafkaRenderable { public func kafkaValue(version: Int16) -> KafkaValue { .bytes(self) } }

extension Optional: KafkaRenderable where Wrapped: KafkaRenderable {
    /// `.null` for nil, else the wrapped value's tree.
    public func kafkaValue(version: Int16) -> KafkaValue {
        switch self {
        case .none: return .null
        case .some(let v): return v.kafkaValue(version: version)
        }
    }
}

extension Array: KafkaRenderable where Element: KafkaRenderable {
    /// `.array` of the elements' trees.
    public func kafkaValue(version: Int16) -> KafkaValue {
        .array(map { $0.kafkaValue(version: version) })
    }
}

extension KafkaTaggedField: KafkaRenderable {
    /// An object `{Tag, Data}`, so unknown tagged fields show in dumps and diffs.
    public func kafkaValue(version: Int16) -> KafkaValue {
        .object(KafkaObject([("Tag", .int(Int64(tag))), ("Data", .bytes(data))]))
    }
}
