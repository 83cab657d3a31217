import NIOCore

/// A decoded message as a generic tree: what JSON rendering, diff and checks walk. Objects keep the
/// schema's field order, so rendering is deterministic; field names are exactly Kafka's.
public indirect enum KafkaValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes(ByteBuffer)
    case uuid(KafkaUUID)
    /// A `records` field: raw record batches, decoded when rendered.
    case records(ByteBuffer)
    case array([KafkaValue])
    case object(KafkaObject)

    public subscript(_ name: String) -> KafkaValue? {
        if case .object(let o) = self { return o[name] }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var arrayValue: [KafkaValue]? {
        if case .array(let v) = self { return v }
        return nil
    }
}

/// An ordered list of named fields.
public struct KafkaObject: Hashable, Sendable {
    public struct Field: Hashable, Sendable {
        public var name: String
        public var value: KafkaValue

        @inlinable
        public init(name: String, value: KafkaValue) {
            self.name = name
            self.value = value
        }
    }

    public var fields: [Field]

    public init() {
        fields = []
    }

    public init(_ pairs: [(String, KafkaValue)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    @inlinable
    public mutating func append(_ name: String, _ value: KafkaValue) {
        fields.append(Field(name: name, value: value))
    }

    public subscript(_ name: String) -> KafkaValue? {
        fields.first { $0.name == name }?.value
    }
}

/// Types that render into a `KafkaValue`. Generated structs conform; so do the primitives.
public protocol KafkaRenderable {
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
    public func kafkaValue(version: Int16) -> KafkaValue {
        switch self {
        case .none: return .null
        case .some(let v): return v.kafkaValue(version: version)
        }
    }
}

extension Array: KafkaRenderable where Element: KafkaRenderable {
    public func kafkaValue(version: Int16) -> KafkaValue {
        .array(map { $0.kafkaValue(version: version) })
    }
}

extension KafkaTaggedField: KafkaRenderable {
    public func kafkaValue(version: Int16) -> KafkaValue {
        .object(KafkaObject([("Tag", .int(Int64(tag))), ("Data", .bytes(data))]))
    }
}
