import NIOCore

/// Deterministic JSON for decoded messages: object keys in schema order (Kafka's field names),
/// integers as numbers, UUIDs in Kafka's base64url form, and bytes as either
/// `{"utf8":"..."}` when they are printable UTF-8 or `{"base64":"..."}` otherwise, so a reader
/// always knows which it got. `records` fields are decoded into batches and records.
public enum KafkaJSON {
    public static func render(_ value: KafkaValue, pretty: Bool = false) -> String {
        var out = ""
        write(value, into: &out, pretty: pretty, indent: 0)
        return out
    }

    static func write(_ value: KafkaValue, into out: inout String, pretty: Bool, indent: Int) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d):
            if d.isFinite { out += "\(d)" } else { out += "\"\(d)\"" }
        case .string(let s): writeString(s, into: &out)
        case .uuid(let u): writeString(u.description, into: &out)
        case .bytes(let b): write(bytesValue(b), into: &out, pretty: pretty, indent: indent)
        case .records(let b): write(KafkaRecords.kafkaValue(b), into: &out, pretty: pretty, indent: indent)
        case .array(let a):
            if a.isEmpty {
                out += "[]"
                return
            }
            out += "["
            for (i, e) in a.enumerated() {
                if i > 0 { out += "," }
                if pretty { newline(&out, indent + 1) }
                write(e, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out += "]"
        case .object(let o):
            if o.fields.isEmpty {
                out += "{}"
                return
            }
            out += "{"
            for (i, f) in o.fields.enumerated() {
                if i > 0 { out += "," }
                if pretty { newline(&out, indent + 1) }
                writeString(f.name, into: &out)
                out += pretty ? ": " : ":"
                write(f.value, into: &out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out += "}"
        }
    }

    /// `{"utf8": text}` for printable UTF-8 (tabs and newlines allowed), else `{"base64": ...}`.
    public static func bytesValue(_ b: ByteBuffer) -> KafkaValue {
        let text: String? = b.withUnsafeReadableBytes { raw in
            guard let s = String(validating: raw, as: UTF8.self) else { return nil }
            for scalar in s.unicodeScalars {
                let v = scalar.value
                if v < 0x20 && v != 0x09 && v != 0x0a && v != 0x0d { return nil }
                if v == 0x7f { return nil }
            }
            return s
        }
        if let text { return .object(KafkaObject([("utf8", .string(text))])) }
        return .object(KafkaObject([("base64", .string(b.withUnsafeReadableBytes { Base64.encode($0) }))]))
    }

    static func newline(_ out: inout String, _ indent: Int) {
        out += "\n"
        out += String(repeating: "  ", count: indent)
    }

    public static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
