import KafkaProtocol
import NIOCore

/// What `check` remembers of one record: a 64-bit hash of its key, value and headers (null markers
/// included), its timestamp, the lengths of key and value, and the value's first 10 bytes to explain
/// a finding. 40 bytes whatever the record's size, so memory is bounded by the number of offsets,
/// not by their bytes.
public struct RecordDigest: Hashable, Sendable {
    /// Hash over key, value and headers; equal records have equal hashes.
    public var contentHash: UInt64
    /// The record's timestamp as a consumer sees it (log-append time when the batch uses it).
    public var timestamp: Int64
    /// Key length, -1 for null.
    public var keyLength: Int32
    /// Value length, -1 for null.
    public var valueLength: Int32
    /// The value's first bytes (up to 10), little-endian in two integers; rendered only for findings.
    private var head: UInt64
    private var headTail: UInt16
    /// Whether `timestamp` is a log-append time (the batch's or the ProduceResponse's) rather than the
    /// producer's create time. Fits in the padding: the digest stays 40 bytes.
    public var isLogAppendTime: Bool

    /// The digest of `record` with its `timestamp` as consumers see it (log-append time when `logAppendTime`).
    public init(_ record: KafkaRecord, timestamp: Int64, logAppendTime: Bool = false) {
        isLogAppendTime = logAppendTime
        var h = ContentHasher()
        h.add(record.key)
        h.add(record.value)
        h.mix(UInt64(record.headers.count))
        for header in record.headers {
            h.add(header.key)
            h.add(header.value)
        }
        contentHash = h.finalize()
        self.timestamp = timestamp
        keyLength = record.key.map { Int32(clamping: $0.readableBytes) } ?? -1
        valueLength = record.value.map { Int32(clamping: $0.readableBytes) } ?? -1
        (head, headTail) = Self.head(record.value)
    }

    /// At most 15 UTF-8 bytes: `"text…"`, `0x0a0b…`, `null` or `""`.
    public var valuePreview: String {
        guard valueLength >= 0 else { return "null" }
        var bytes: [UInt8] = []
        let n = min(Int(valueLength), 10)
        for i in 0..<n {
            bytes.append(i < 8 ? UInt8(truncatingIfNeeded: head >> (8 * UInt64(i))) : UInt8(truncatingIfNeeded: headTail >> (8 * UInt16(i - 8))))
        }
        return Self.preview(bytes, total: Int(valueLength))
    }

    private static func head(_ buffer: ByteBuffer?) -> (UInt64, UInt16) {
        guard let buffer else { return (0, 0) }
        return buffer.withUnsafeReadableBytes { raw in
            var h: UInt64 = 0
            var t: UInt16 = 0
            for i in 0..<min(raw.count, 10) {
                if i < 8 { h |= UInt64(raw[i]) << (8 * UInt64(i)) } else { t |= UInt16(raw[i]) << (8 * UInt16(i - 8)) }
            }
            return (h, t)
        }
    }

    /// Whether a value (or key) is null, empty or has bytes.
    public enum Presence: String, Sendable {
        /// A null field, a zero-length one, or one with bytes: I10 keeps null and empty apart.
        case null, empty, bytes
        init(length: Int32) { self = length < 0 ? .null : length == 0 ? .empty : .bytes }
    }

    /// Whether the key is null, empty or has bytes.
    public var keyPresence: Presence { Presence(length: keyLength) }
    /// Whether the value is null, empty or has bytes.
    public var valuePresence: Presence { Presence(length: valueLength) }

    /// `value "abc" (3 bytes)`, `value null`.
    public var valueDescription: String {
        switch valuePresence {
        case .null: return "null"
        case .empty: return "empty"
        case .bytes: return "\(valuePreview) (\(valueLength) bytes)"
        }
    }

    /// A preview of a value of `total` bytes that starts with `bytes`.
    static func preview(_ bytes: [UInt8], total: Int) -> String {
        if total == 0 { return "\"\"" }
        var n = bytes.count
        // Cut at a character boundary; give up on text after three tries (then it is binary).
        for _ in 0..<4 {
            if let s = String(validating: bytes[0..<n], as: UTF8.self),
                s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }), n > 0
            {
                return "\"" + s + (n < total ? "…" : "") + "\""
            }
            n -= 1
            if n <= 0 { break }
        }
        let digits = Array("0123456789abcdef")
        var hex = "0x"
        for b in bytes.prefix(5) {
            hex.append(digits[Int(b >> 4)])
            hex.append(digits[Int(b & 0x0f)])
        }
        return hex + (total > 5 ? "…" : "")
    }
}

/// A fast 64-bit hash (8 bytes per step, multiply-rotate mixing, final avalanche). Not
/// cryptographic: it tells records apart, it does not defend against crafted collisions.
struct ContentHasher {
    private var h: UInt64 = 0x27D4_EB2F_1656_67C5
    private static let p1: UInt64 = 0x9E37_79B1_85EB_CA87
    private static let p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    mutating func mix(_ v: UInt64) {
        var k = v &* Self.p2
        k = (k << 31) | (k >> 33)
        h ^= k &* Self.p1
        h = ((h << 27) | (h >> 37)) &* Self.p1 &+ 0x52DC_E729
    }

    @inline(__always) private static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        var a = acc &+ input &* p2
        a = (a << 31) | (a >> 33)
        return a &* p1
    }

    mutating func add(_ buffer: ByteBuffer?) {
        guard let buffer else {
            mix(0xFFFF_FFFF_FFFF_FFFF)
            return
        }
        mix(UInt64(buffer.readableBytes))
        buffer.withUnsafeReadableBytes { raw in
            var i = 0
            // Long values: four independent lanes of 8 bytes (xxHash64's rounds), so the multiplies
            // overlap instead of waiting on one another; then the lanes are mixed in.
            if raw.count >= 32 {
                var v1 = h &+ Self.p1 &+ Self.p2, v2 = h &+ Self.p2, v3 = h, v4 = h &- Self.p1
                while i + 32 <= raw.count {
                    v1 = Self.round(v1, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                    v2 = Self.round(v2, raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self))
                    v3 = Self.round(v3, raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self))
                    v4 = Self.round(v4, raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self))
                    i += 32
                }
                mix(v1)
                mix(v2)
                mix(v3)
                mix(v4)
            }
            while i + 8 <= raw.count {
                mix(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            if i < raw.count {
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while i < raw.count {
                    tail |= UInt64(raw[i]) << shift
                    shift += 8
                    i += 1
                }
                mix(tail)
            }
        }
    }

    mutating func add(_ string: String) {
        var s = string
        s.withUTF8 { utf8 in
            mix(UInt64(utf8.count))
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            for b in utf8 {
                tail |= UInt64(b) << shift
                shift += 8
                if shift == 64 {
                    mix(tail)
                    tail = 0
                    shift = 0
                }
            }
            if shift > 0 { mix(tail) }
        }
    }

    func finalize() -> UInt64 {
        var x = h
        x ^= x >> 33
        x = x &* 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x = x &* 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }
}
