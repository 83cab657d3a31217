import NIOCore

/// Deterministic JSON for decoded messages: object keys in schema order (Kafka's field names),
/// integers as numbers, UUIDs in Kafka's base64url form, and bytes as either
/// `{"utf8":"..."}` when they are printable UTF-8 or `{"base64":"..."}` otherwise, so a reader
/// always knows which it got. `records` fields are decoded into batches and records.
public enum KafkaJSON {
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

    /// The bytes as a string when they are printable UTF-8, else nil. Printable ASCII, the common
    /// case, is checked byte by byte without building a String first.
    static func printableText(_ b: ByteBuffer) -> String? {
        b.withUnsafeReadableBytes { raw -> String? in
            var ascii = true
            for byte in raw {
                if byte >= 0x80 {
                    ascii = false
                } else if byte < 0x20 && byte != 0x09 && byte != 0x0a && byte != 0x0d || byte == 0x7f {
                    return nil
                }
            }
            if ascii { return String(decoding: raw, as: UTF8.self) }
            guard let s = String(validating: raw, as: UTF8.self) else { return nil }
            for scalar in s.unicodeScalars where (0x80..<0xa0).contains(scalar.value) { return nil }
            return s
        }
    }

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

    mutating func write(_ value: KafkaValue, pretty: Bool, indent: Int) {
        switch value {
        case .null: literal("null")
        case .bool(let b): literal(b ? "true" : "false")
        case .int(let i): integer(i)
        case .double(let d):
            if d.isFinite { literal("\(d)") } else { string("\(d)") }
        case .string(let s): string(s)
        case .uuid(let u): string(u.description)
        case .bytes(let b): write(KafkaJSON.bytesValue(b), pretty: pretty, indent: indent)
        case .records(let b): write(KafkaRecords.kafkaValue(b), pretty: pretty, indent: indent)
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

    mutating func integer(_ value: Int64) {
        if value == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var v = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, Int) = (0, 0)
        var buf = [UInt8](repeating: 0, count: 20)
        while v > 0 {
            buf[digits.1] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            digits.1 += 1
        }
        for i in stride(from: digits.1 - 1, through: 0, by: -1) { out.append(buf[i]) }
    }

    mutating func string(_ s: String) {
        out.append(UInt8(ascii: "\""))
        let hex = Array("0123456789abcdef".utf8)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): literal("\\\"")
            case UInt8(ascii: "\\"): literal("\\\\")
            case 0x0a: literal("\\n")
            case 0x0d: literal("\\r")
            case 0x09: literal("\\t")
            case 0..<0x20:
                literal("\\u00")
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0f)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
