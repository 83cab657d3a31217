import NIOCore

/// One step of a path into a decoded message: a field by the name `kafkaValue(version:)` renders it
/// under (Kafka's spec name, `ProducerId`), or an array element by position.
public enum KafkaFieldStep: Hashable, Sendable {
    /// A field of a struct, by its spec name.
    case field(String)
    /// An element of an array, by position.
    case index(Int)
}

/// Sets a field of a message by path, the inverse of reading it from `kafkaValue(version:)`: edit a
/// decoded message, then re-encode it (replay puts the target's live producer ids, member ids,
/// fetch sessions into recorded requests this way). Generated for every schema struct
/// (`KafkaProtocolGen`); the primitives, optionals and arrays below complete it.
public protocol KafkaFieldSettable {
    /// Sets what `path` names to `value`. False, with nothing changed, when the path names no field
    /// that exists in `version`, an element out of range, or `value` does not fit the field's type
    /// (an integer out of range, a string for a number).
    mutating func setField(_ path: ArraySlice<KafkaFieldStep>, to value: KafkaValue, version: Int16) -> Bool
}

/// A leaf value made from a `KafkaValue` of the right shape.
public protocol KafkaFieldLeaf: KafkaFieldSettable {
    /// The leaf for `fieldValue`, or nil when the value has another shape or does not fit.
    init?(fieldValue: KafkaValue)
}

extension KafkaFieldLeaf {
    /// Replaces the leaf when `path` is empty and `value` fits.
    public mutating func setField(_ path: ArraySlice<KafkaFieldStep>, to value: KafkaValue, version: Int16) -> Bool {
        guard path.isEmpty, let v = Self(fieldValue: value) else { return false }
        self = v
        return true
    }
}

extension KafkaFieldLeaf where Self: FixedWidthInteger {
    /// An integer from `.int`, when it fits this width exactly.
    public init?(fieldValue: KafkaValue) {
        guard case .int(let v) = fieldValue, let exact = Self(exactly: v) else { return nil }
        self = exact
    }
}

extension Int8: KafkaFieldLeaf {}
extension Int16: KafkaFieldLeaf {}
extension Int32: KafkaFieldLeaf {}
extension Int64: KafkaFieldLeaf {}
extension UInt16: KafkaFieldLeaf {}
extension UInt32: KafkaFieldLeaf {}

extension Bool: KafkaFieldLeaf {
    /// A bool from `.bool` only.
    public init?(fieldValue: KafkaValue) {
        guard case .bool(let v) = fieldValue else { return nil }
        self = v
    }
}

extension Double: KafkaFieldLeaf {
    /// A float64 from `.double`, or from `.int` (JSON edits write whole numbers without a point).
    public init?(fieldValue: KafkaValue) {
        switch fieldValue {
        case .double(let v): self = v
        case .int(let v): self = Double(v)
        default: return nil
        }
    }
}

extension String: KafkaFieldLeaf {
    /// A string from `.string` only (not from null: nullable fields are optionals).
    public init?(fieldValue: KafkaValue) {
        guard case .string(let v) = fieldValue else { return nil }
        self = v
    }
}

extension KafkaUUID: KafkaFieldLeaf {
    /// A UUID from `.uuid` only.
    public init?(fieldValue: KafkaValue) {
        guard case .uuid(let v) = fieldValue else { return nil }
        self = v
    }
}

/// `bytes` and `records` fields are both `ByteBuffer`s.
extension ByteBuffer: KafkaFieldLeaf {
    /// Bytes from `.bytes` or `.records`.
    public init?(fieldValue: KafkaValue) {
        switch fieldValue {
        case .bytes(let b), .records(let b): self = b
        default: return nil
        }
    }
}

extension Optional: KafkaFieldSettable where Wrapped: KafkaFieldSettable {
    /// `.null` clears a nullable (or tagged) field; anything else sets the wrapped value. A nil
    /// struct or array cannot be set into (there is nothing to edit).
    public mutating func setField(_ path: ArraySlice<KafkaFieldStep>, to value: KafkaValue, version: Int16) -> Bool {
        if path.isEmpty, value == .null {
            self = nil
            return true
        }
        if var wrapped = self {
            guard wrapped.setField(path, to: value, version: version) else { return false }
            self = wrapped
            return true
        }
        guard path.isEmpty, let leaf = Wrapped.self as? any KafkaFieldLeaf.Type, let made = leaf.init(fieldValue: value) as? Wrapped
        else { return false }
        self = made
        return true
    }
}

extension Array: KafkaFieldSettable where Element: KafkaFieldSettable {
    /// Follows an index step into the element; an index out of range changes nothing.
    public mutating func setField(_ path: ArraySlice<KafkaFieldStep>, to value: KafkaValue, version: Int16) -> Bool {
        guard case .index(let i)? = path.first, indices.contains(i) else { return false }
        return self[i].setField(path.dropFirst(), to: value, version: version)
    }
}
