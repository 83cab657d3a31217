import NIOCore

/// Deterministic JSON for decoded messages: object keys in schema order (Kafka's field names),
/// integers as numbers, UUIDs in Kafka's base64url form, and bytes as either
/// `{"utf8":"..."}` when they are printable UTF-8 or `{"base64":"..."}` otherwise, so a reader
/// always knows which it got. `records` fields are decoded into batches and records.
public enum KafkaJSON {
    /// `value` as JSON; `pretty` indents by two spaces, otherwise one line.
    public static func render(_ value: KafkaValue, pretty: Bool = false) -> String {
        var w = JSONBytes()
        w.write(value, pretty: pretty, indent: 0)
        return String(decoding: w.out, as: UTF8.self)
    }

    /// `{"utf8": text}` for printable UTF-8 (tabs and newlines allowed), else `{"base64": ...}`.
    public static func bytesValue(_ b: ByteBuffer) -> KafkaValue {
        if let text = printableText(b) { return .object(KafkaObject([("utf8", .string(text))])) }
        return .object(KafkaObject([("base64", .string(b.withUnsafeReadableBytes { Base64.encode($0) }))]))
    }

    /// The bytes as a string when they are printable UTF-8, else nil.
    static func printableText(_ b: ByteBuffer) -> String? {
        b.withUnsafeReadableBytes { raw -> String? in
            isPrintable(raw) ? String(decoding: raw, as: UTF8.self) : nil
        }
    }

    /// Printable UTF-8: valid UTF-8 without control characters other than tab, newline and carriage
    /// return (C0, DEL and C1). Printable ASCII, the common case, is checked byte by byte without
    /// building a String.
    static func isPrintable(_ raw: UnsafeRawBufferPointer) -> Bool {
        // Eight bytes at a time while they are all printable ASCII (0x20-0x7e).
        var start = 0
        while start + 8 <= raw.count {
            let w = raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)
            if SWAR.hasByteBelow(w, 0x20) || SWAR.hasHighBit(w) || SWAR.hasByte(w, 0x7f) { break }
            start += 8
        }
        var ascii = true
        for byte in UnsafeRawBufferPointer(rebasing: raw[start...]) {
            if byte >= 0x80 {
                ascii = false
            } else if byte < 0x20 && byte != 0x09 && byte != 0x0a && byte != 0x0d || byte == 0x7f {
                return false
            }
        }
        if ascii { return true }
        guard let s = String(validating: raw, as: UTF8.self) else { return false }
        for scalar in s.unicodeScalars where (0x80..<0xa0).contains(scalar.value) { return false }
        return true
    }

    /// Appends `s` to `out` as a JSON string literal (quotes and escapes included).
    public static func writeString(_ s: String, into out: inout String) {
        var w = JSONBytes()
        w.string(s)
        out += String(decoding: w.out, as: UTF8.self)
    }
}

/// The JSON writer: appends UTF-8 bytes to one growing array (no intermediate Strings).
struct JSONBytes {
    var out: [UInt8] = []

    init() {
        out.reserveCapacity(4096)
    }

    /// A writer continuing `other`'s bytes (moved, not copied; `other` is left empty).
    init(taking other: inout JSONBytes) {
        swap(&out, &other.out)
    }

    mutating func write(_ value: KafkaValue, pretty: Bool, indent: Int) {
        switch value {
        case .null: literal("null")
        case .bool(let b): literal(b ? "true" : "false")
        case .int(let i): integer(i)
        case .double(let d):
            if d.isFinite { literal("\(d)") } else { string("\(d)") }
        case .string(let s): string(s)
        case .uuid(let u): string(u.description)
        case .bytes(let b): bytes(b, pretty: pretty, indent: indent)
        case .records(let b):
            // Straight to JSON, without building the records' tree.
            var stream = JSONStreamWriter(json: JSONBytes(taking: &self), pretty: pretty, indent: indent)
            KafkaRecords.render(b, into: &stream)
            swap(&out, &stream.json.out)
        case .array(let a):
            if a.isEmpty {
                literal("[]")
                return
            }
            out.append(UInt8(ascii: "["))
            for (i, e) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 1) }
                write(e, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.fields.isEmpty {
                literal("{}")
                return
            }
            out.append(UInt8(ascii: "{"))
            for (i, f) in o.fields.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(indent + 1) }
                string(f.name)
                if pretty { literal(": ") } else { out.append(UInt8(ascii: ":")) }
                write(f.value, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    mutating func literal(_ s: StaticString) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    mutating func literal(_ s: String) {
        out.append(contentsOf: s.utf8)
    }

    mutating func newline(_ indent: Int) {
        out.append(UInt8(ascii: "\n"))
        for _ in 0..<indent { literal("  ") }
    }

    /// `{"utf8":"..."}` or `{"base64":"..."}` as `KafkaJSON.bytesValue` would render, written straight
    /// from the buffer (no intermediate String or value tree).
    mutating func bytes(_ b: ByteBuffer, pretty: Bool, indent: Int) {
        b.withUnsafeReadableBytes { raw in
            let printable = KafkaJSON.isPrintable(raw)
            out.append(UInt8(ascii: "{"))
            if pretty { newline(indent + 1) }
            if printable { literal(#""utf8""#) } else { literal(#""base64""#) }
            if pretty { literal(": ") } else { out.append(UInt8(ascii: ":")) }
            if printable {
                escaped(raw)
            } else {
                out.append(UInt8(ascii: "\""))
                Base64.encode(raw, into: &out)
                out.append(UInt8(ascii: "\""))
            }
            if pretty { newline(indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    mutating func integer(_ value: Int64) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // Digits are appended least significant first, then reversed in place.
        let start = out.count
        while v > 0 {
            out.append(UInt8(ascii: "0") + UInt8(v % 10))
            v /= 10
        }
        out[start...].reverse()
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { escaped(UnsafeRawBufferPointer($0)) }
    }

    private static let hex: StaticString = "0123456789abcdef"

    /// A JSON string literal of UTF-8 bytes: runs that need no escaping are copied in one append.
    mutating func escaped(_ bytes: UnsafeRawBufferPointer) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        var i = 0
        let n = bytes.count
        while i < n {
            // Eight bytes at a time while none needs escaping.
            if i + 8 <= n {
                let w = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if !SWAR.hasByteBelow(w, 0x20) && !SWAR.hasByte(w, UInt8(ascii: "\"")) && !SWAR.hasByte(w, UInt8(ascii: "\\")) {
                    i += 8
                    continue
                }
            }
            let byte = bytes[i]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            switch byte {
            case UInt8(ascii: "\""): literal("\\\"")
            case UInt8(ascii: "\\"): literal("\\\\")
            case 0x0a: literal("\\n")
            case 0x0d: literal("\\r")
            case 0x09: literal("\\t")
            default:
                literal("\\u00")
                Self.hex.withUTF8Buffer { hex in
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0x0f)])
                }
            }
            i += 1
            runStart = i
        }
        if runStart < n { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<n])) }
        out.append(UInt8(ascii: "\""))
    }
}

/// Byte tests on eight bytes at once (SIMD within a register). Each says whether *any* byte of the
/// word matches, exactly (no false positives or negatives).
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Some byte is below `n` (n <= 128).
    @inline(__always) static func hasByteBelow(_ w: UInt64, _ n: UInt8) -> Bool {
        (w &- ones &* UInt64(n)) & ~w & highs != 0
    }

    /// Some byte equals `b`.
    @inline(__always) static func hasByte(_ w: UInt64, _ b: UInt8) -> Bool {
        let x = w ^ (ones &* UInt64(b))
        return (x &- ones) & ~x & highs != 0
    }

    /// Some byte is 0x80 or above.
    @inline(__always) static func hasHighBit(_ w: UInt64) -> Bool { w & highs != 0 }
}
