import KafkaProtocol
import NIOCore

/// Applies `ValueEdit`s to an encoded message in place, keeping every other byte as it was.
///
/// Why this shape: the generated message types have no generic setter and `KafkaValue` has no
/// inverse, so "decode, edit the tree, re-encode" is not available without generating more code.
/// Instead the patcher locates each field in the bytes and lets the codec confirm it: for an edit
/// it lists every place where the old value's encoding occurs (fixed-width integers at each width the
/// value fits, UUIDs, classic and compact strings, record sets), writes the new value's encoding
/// there, decodes the result and accepts it only if the decoded tree is exactly the expected tree
/// (the old tree with that one field changed). A candidate that hits the wrong field, or the inside
/// of another field, fails that check, so a successful patch is correct by the codec's own reading,
/// and everything the edits do not touch (unknown tagged fields, record batches) stays byte-exact.
public enum WirePatcher {
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var path: FieldPath
        public var reason: String
        public var description: String { "cannot substitute \(path): \(reason)" }
    }

    /// Verification attempts per edit before giving up.
    public static let maxAttempts = 1024

    /// - Parameters:
    ///   - payload: the whole frame without its size prefix.
    ///   - bodyStart: where the body starts (edits are looked for only after it).
    ///   - tree: `render(payload)`, the decoded body as it is now.
    ///   - render: decodes a candidate frame and renders its body; nil when it does not decode.
    public static func apply(
        _ edits: [ValueEdit], to payload: ByteBuffer, bodyStart: Int, tree: KafkaValue,
        render: (ByteBuffer) -> KafkaValue?
    ) throws(Failure) -> ByteBuffer {
        var bytes = Array(payload.readableBytesView)
        var current = tree
        for edit in edits {
            guard let expected = current.replacing(at: edit.path, with: edit.new) else {
                throw Failure(path: edit.path, reason: "no such field in the message")
            }
            var attempts = 0
            var done = false
            for (old, new) in encodings(edit) where !done {
                guard !old.isEmpty else { continue }
                var from = bodyStart
                while let at = find(old, in: bytes, from: from) {
                    from = at + 1
                    attempts += 1
                    guard attempts <= maxAttempts else {
                        throw Failure(path: edit.path, reason: "too many candidate positions for \(edit.old)")
                    }
                    var candidate = bytes
                    candidate.replaceSubrange(at..<(at + old.count), with: new)
                    if render(ByteBuffer(bytes: candidate)) == expected {
                        bytes = candidate
                        current = expected
                        done = true
                        break
                    }
                }
            }
            guard done else {
                throw Failure(path: edit.path, reason: "no encoding of \(edit.old) in the message decodes as that field")
            }
        }
        return ByteBuffer(bytes: bytes)
    }

    /// (old bytes, new bytes) pairs to try, most specific first.
    static func encodings(_ edit: ValueEdit) -> [([UInt8], [UInt8])] {
        switch (edit.old, edit.new) {
        case (.int(let a), .int(let b)):
            var out: [([UInt8], [UInt8])] = []
            for width in [8, 4, 2, 1] where fits(a, width) && fits(b, width) {
                out.append((bigEndian(a, width), bigEndian(b, width)))
            }
            return out
        case (.uuid(let a), .uuid(let b)):
            return [(a.bytes, b.bytes)]
        case (.string(let a), .string(let b)):
            let ua = Array(a.utf8)
            let ub = Array(b.utf8)
            var out: [([UInt8], [UInt8])] = []
            if ub.count <= Int(Int16.max) {
                out.append((bigEndian(Int64(ua.count), 2) + ua, bigEndian(Int64(ub.count), 2) + ub))
            }
            out.append((unsignedVarint(UInt32(ua.count + 1)) + ua, unsignedVarint(UInt32(ub.count + 1)) + ub))
            return out
        case (.records(let a), .records(let b)), (.bytes(let a), .bytes(let b)):
            guard a.readableBytes == b.readableBytes else { return [] }
            return [(Array(a.readableBytesView), Array(b.readableBytesView))]
        default:
            return []
        }
    }

    static func fits(_ v: Int64, _ width: Int) -> Bool {
        switch width {
        case 1: return Int8(exactly: v) != nil
        case 2: return Int16(exactly: v) != nil
        case 4: return Int32(exactly: v) != nil
        default: return true
        }
    }

    static func bigEndian(_ v: Int64, _ width: Int) -> [UInt8] {
        (0..<width).map { i in UInt8(truncatingIfNeeded: v >> (8 * (width - 1 - i))) }
    }

    static func unsignedVarint(_ v: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        var x = v
        while x >= 0x80 {
            out.append(UInt8(x & 0x7f) | 0x80)
            x >>= 7
        }
        out.append(UInt8(x))
        return out
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, hay.count >= needle.count, from <= hay.count - needle.count else { return nil }
        let first = needle[0]
        var i = from
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first {
                var j = 1
                while j < needle.count && hay[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
