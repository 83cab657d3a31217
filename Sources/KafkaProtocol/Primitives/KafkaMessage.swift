import NIOCore

/// A struct from a Kafka message schema: a message body, a header, or a struct nested in one.
/// Decoding and encoding are inverses for every version the schema defines, byte for byte,
/// including tagged fields this codec does not know (kept in `unknownTaggedFields`).
public protocol KafkaStruct: Hashable, Sendable, KafkaRenderable, KafkaFieldSettable {
    /// A value with every field at its schema default.
    init()
    /// Decodes the struct as `version` lays it out; errors carry the field path and byte offset.
    init(from reader: inout KafkaReader, version: Int16) throws(KafkaDecodingError)
    /// Encodes the struct as `version` lays it out, unknown tagged fields included.
    func encode(to writer: inout KafkaWriter, version: Int16)
    /// Tagged fields decoded without a schema, re-encoded as they came.
    var unknownTaggedFields: [KafkaTaggedField] { get set }
}

/// Which kind of schema file a message comes from (Kafka's spec `type`).
public enum KafkaMessageKind: String, Sendable {
    /// A request or response body, a request or response header, or a versioned data schema (consumer
    /// protocol, KRaft records).
    case request, response, header, data
}

/// A top-level schema: a request or response body (or a header, or a versioned data schema).
public protocol KafkaMessage: KafkaStruct {
    /// The API key for requests and responses; -1 for headers and data schemas.
    static var apiKey: Int16 { get }
    /// The spec's `type`.
    static var kind: KafkaMessageKind { get }
    /// Schema name as in Kafka's spec (`ProduceRequest`).
    static var schemaName: String { get }
    /// Every version this codec decodes (the union of Kafka 4.2.1 and 3.9 valid versions).
    static var versions: ClosedRange<Int16> { get }
    /// The first flexible version (compact encodings and tagged fields), or nil when none is.
    static var firstFlexibleVersion: Int16? { get }
}

extension KafkaMessage {
    /// Whether `version` uses the flexible encodings (KIP-482).
    public static func isFlexible(_ version: Int16) -> Bool {
        guard let f = firstFlexibleVersion else { return false }
        return version >= f
    }

    /// Decodes a whole body: the version must be supported and every byte consumed.
    public static func decode(_ buffer: ByteBuffer, version: Int16) throws(KafkaDecodingError) -> Self {
        var reader = KafkaReader(buffer)
        do throws(KafkaDecodingError) {
            guard versions.contains(version) else {
                throw KafkaDecodingError(.unsupportedVersion(apiKey: apiKey, version: version), offset: 0)
            }
            let value = try Self(from: &reader, version: version)
            try reader.expectEnd()
            return value
        } catch {
            var e = error
            if apiKey >= 0 { e.apiKey = apiKey }
            e.apiVersion = version
            e.apiName = schemaName
            throw e
        }
    }

    /// The message encoded at `version` (body only, no header or size).
    public func encoded(version: Int16) -> ByteBuffer {
        var writer = KafkaWriter()
        encode(to: &writer, version: version)
        return writer.buffer
    }
}

/// A tagged field this codec has no schema for (or that the version does not define), kept so the
/// message re-encodes byte for byte.
public struct KafkaTaggedField: Hashable, Sendable {
    /// The tag number (tagged fields are written in ascending tag order).
    public var tag: UInt32
    /// The field's bytes as they were on the wire.
    public var data: ByteBuffer

    /// A tagged field with raw `data`.
    public init(tag: UInt32, data: ByteBuffer) {
        self.tag = tag
        self.data = data
    }
}

extension KafkaReader {
    /// Reads a tagged-field section header: the number of fields. Each field takes at least two bytes,
    /// so a count beyond the remaining bytes is rejected before any loop runs.
    @inlinable
    public mutating func readTaggedFieldCount() throws(KafkaDecodingError) -> Int {
        let start = offset
        let n = try readUnsignedVarint()
        if Int(n) > remaining {
            throw KafkaDecodingError(.lengthTooLarge(Int64(n), limit: remaining), offset: start)
        }
        return Int(n)
    }

    /// Reads one tagged field's tag and size and returns a reader over its data. `previous` enforces
    /// the ascending order that makes re-encoding byte-exact.
    @inlinable
    public mutating func readTaggedField(previous: inout Int64) throws(KafkaDecodingError) -> (UInt32, KafkaReader) {
        let start = offset
        let tag = try readUnsignedVarint()
        if Int64(tag) <= previous { throw KafkaDecodingError(.taggedFieldOrder(tag: tag), offset: start) }
        previous = Int64(tag)
        let sizeStart = offset
        let size = try readUnsignedVarint()
        guard Int(size) <= remaining else {
            throw KafkaDecodingError(.lengthTooLarge(Int64(size), limit: remaining), offset: sizeStart)
        }
        return (tag, try subReader(length: Int(size)))
    }

    /// Moves past a whole tagged-field section, checking only its order and sizes.
    @inlinable
    public mutating func skipTaggedFields() throws(KafkaDecodingError) {
        let count = try readTaggedFieldCount()
        var previous: Int64 = -1
        for _ in 0..<count { _ = try readTaggedField(previous: &previous) }
    }

    /// Checks a known tagged field's reader was consumed exactly.
    @inlinable
    public func expectTaggedFieldEnd(tag: UInt32, size: Int) throws(KafkaDecodingError) {
        if remaining != 0 {
            throw KafkaDecodingError(
                .taggedFieldSizeMismatch(tag: tag, declared: size, consumed: size - remaining), offset: offset)
        }
    }
}

/// Collects a struct's tagged fields and writes them in ascending tag order.
public struct KafkaTaggedFieldWriter {
    @usableFromInline var fields: [KafkaTaggedField] = []

    /// No fields yet.
    @inlinable
    public init() {}

    /// Adds field `tag` with the bytes `write` produces.
    @inlinable
    public mutating func add(_ tag: UInt32, _ write: (inout KafkaWriter) -> Void) {
        var w = KafkaWriter()
        write(&w)
        fields.append(KafkaTaggedField(tag: tag, data: w.buffer))
    }

    /// Writes the tagged-field section: the count, then each field (known and `unknown`) by ascending tag
    /// with its size.
    @inlinable
    public mutating func write(to writer: inout KafkaWriter, unknown: [KafkaTaggedField]) {
        if fields.isEmpty && unknown.isEmpty {
            writer.writeUnsignedVarint(0)
            return
        }
        var all = fields + unknown
        all.sort { $0.tag < $1.tag }
        writer.writeUnsignedVarint(UInt32(all.count))
        for f in all {
            writer.writeUnsignedVarint(f.tag)
            writer.writeUnsignedVarint(UInt32(f.data.readableBytes))
            writer.writeRaw(f.data)
        }
    }
}
