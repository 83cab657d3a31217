/// Base64 without Foundation, for JSON rendering of bytes and UUIDs.
public enum Base64 {
    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// RFC 4648 base64 of `bytes`; `urlSafe` uses `-` and `_` (Kafka's UUID form), `padded` adds `=`.
    public static func encode<C: Collection>(_ bytes: C, urlSafe: Bool = false, padded: Bool = true) -> String
    where C.Element == UInt8 {
        var out = [UInt8]()
        encode(bytes, into: &out, urlSafe: urlSafe, padded: padded)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the encoding of `bytes` to `out`.
    public static func encode<C: Collection>(_ bytes: C, into out: inout [UInt8], urlSafe: Bool = false, padded: Bool = true)
    where C.Element == UInt8 {
        let table = urlSafe ? Self.urlSafe : Self.standard
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var it = bytes.makeIterator()
        while let b0 = it.next() {
            let b1 = it.next()
            let b2 = it.next()
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                out.append(table[Int((b1 & 0x0f) << 2 | (b2 ?? 0) >> 6)])
            } else if padded {
                out.append(UInt8(ascii: "="))
            }
            if let b2 {
                out.append(table[Int(b2 & 0x3f)])
            } else if padded {
                out.append(UInt8(ascii: "="))
            }
        }
    }

    /// The bytes of a base64 string (padding optional), or nil when it has a character outside the alphabet.
    public static func decode(_ string: String, urlSafe: Bool = false) -> [UInt8]? {
        var values = [UInt8]()
        values.reserveCapacity(string.utf8.count)
        for c in string.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+") where !urlSafe, UInt8(ascii: "-") where urlSafe: values.append(62)
            case UInt8(ascii: "/") where !urlSafe, UInt8(ascii: "_") where urlSafe: values.append(63)
            case UInt8(ascii: "="): continue
            default: return nil
            }
        }
        if values.count % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}
