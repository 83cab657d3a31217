/// A decoding failure, with where it happened: the API and version being decoded, the field path
/// inside the message (`Topics[2].Partitions[0].Records`), and the byte offset from the start of the
/// buffer handed to the decoder.
public struct KafkaDecodingError: Error, Hashable, CustomStringConvertible, Sendable {
    /// What went wrong, with the numbers that show it.
    public enum Kind: Hashable, Sendable {
        /// `needed` more bytes were required but only `available` were left.
        case truncated(needed: Int, available: Int)
        /// A length or count below -1 (or -1 where null is not allowed).
        case negativeLength(Int64)
        /// A length or count larger than the bytes that remain (or than a configured limit).
        case lengthTooLarge(Int64, limit: Int)
        /// An unsigned varint longer than 5 bytes, or a varlong longer than 10.
        case invalidVarint
        /// A string whose bytes are not valid UTF-8 (re-encoding it would not be byte-exact).
        case invalidUTF8
        /// A null where the schema does not allow one at this version.
        case unexpectedNull
        /// A request whose API key this codec has no schema for (the proxy still forwards it).
        case unknownApiKey(Int16)
        /// A version outside what this codec's specs define for the API.
        case unsupportedVersion(apiKey: Int16, version: Int16)
        /// The message decoded but `count` bytes were left over.
        case trailingBytes(count: Int)
        /// A known tagged field whose declared size does not match what its schema consumed.
        case taggedFieldSizeMismatch(tag: UInt32, declared: Int, consumed: Int)
        /// Tags out of ascending order or repeated.
        case taggedFieldOrder(tag: UInt32)
        /// A record batch or message set that violates its format (bad magic, bad count, ...).
        case invalidRecords(String)
        /// A record batch whose stored CRC is not the CRC of its bytes.
        case crcMismatch(expected: UInt32, actual: UInt32)
        /// A compressed batch that does not decompress (the codec names what failed).
        case compression(String)
        /// A value the schema's type allows but the protocol does not (explained in the text).
        case invalidValue(String)
    }

    /// What went wrong.
    public var kind: Kind
    /// Byte offset (from the start of the decoded buffer) where the failing read began.
    public var offset: Int
    /// Field path, outermost first.
    public var path: [String]
    /// The API key of the message being decoded, when it is a request or response.
    public var apiKey: Int16?
    /// The version it was being decoded at.
    public var apiVersion: Int16?
    /// The API name, when known (`Fetch`, `Metadata`, ...).
    public var apiName: String?

    /// An error of `kind` at byte `offset`; the path and API are filled in as it unwinds.
    public init(_ kind: Kind, offset: Int, path: [String] = []) {
        self.kind = kind
        self.offset = offset
        self.path = path
    }

    /// Returns the error with `component` prepended to its path; generated decoders call this as the
    /// error unwinds through each field.
    @inlinable
    public func at(_ component: String) -> KafkaDecodingError {
        var copy = self
        copy.path.insert(component, at: 0)
        return copy
    }

    /// The error with an array index (`[3]`) prepended to its path.
    @inlinable
    public func at(index: Int) -> KafkaDecodingError {
        at("[\(index)]")
    }

    /// The path as people read it: `Topics[2].Partitions[0].Records`.
    public var pathString: String {
        var s = ""
        for c in path {
            if c.hasPrefix("[") || s.isEmpty { s += c } else { s += "." + c }
        }
        return s
    }

    /// One line: what, then where (API, version, field path, offset).
    public var description: String {
        var where_ = ""
        if let apiName { where_ += apiName } else if let apiKey { where_ += "apiKey \(apiKey)" }
        if let apiVersion { where_ += " v\(apiVersion)" }
        let path = pathString
        if !path.isEmpty { where_ += where_.isEmpty ? path : " \(path)" }
        where_ += where_.isEmpty ? "offset \(offset)" : " at offset \(offset)"
        return "\(kindDescription) (\(where_))"
    }

    /// What went wrong, without where.
    public var kindDescription: String {
        switch kind {
        case .truncated(let needed, let available): return "truncated: needed \(needed) bytes, \(available) left"
        case .negativeLength(let n): return "invalid negative length \(n)"
        case .lengthTooLarge(let n, let limit): return "length \(n) exceeds the \(limit) bytes available"
        case .invalidVarint: return "invalid varint"
        case .invalidUTF8: return "string is not valid UTF-8"
        case .unexpectedNull: return "null not allowed here"
        case .unknownApiKey(let k): return "unknown API key \(k)"
        case .unsupportedVersion(let k, let v): return "API key \(k) version \(v) is not supported by this codec"
        case .trailingBytes(let n): return "\(n) bytes left over after the message"
        case .taggedFieldSizeMismatch(let tag, let declared, let consumed):
            return "tagged field \(tag) declared \(declared) bytes but its schema read \(consumed)"
        case .taggedFieldOrder(let tag): return "tagged field \(tag) out of ascending order"
        case .invalidRecords(let why): return "invalid records: \(why)"
        case .crcMismatch(let e, let a):
            return "CRC mismatch: stored 0x\(String(e, radix: 16)), computed 0x\(String(a, radix: 16))"
        case .compression(let why): return "decompression failed: \(why)"
        case .invalidValue(let why): return "invalid value: \(why)"
        }
    }
}
