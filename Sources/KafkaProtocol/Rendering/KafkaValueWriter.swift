import NIOCore

/// A rendering as a stream of events, so one description of a structure can build a `KafkaValue`
/// tree (`KafkaValueTreeBuilder`, for `diff` and the generic paths) or go straight to JSON bytes
/// (`JSONStreamWriter`, for `dump --json`) without the tree's allocations.
protocol KafkaValueWriter {
    mutating func beginObject()
    /// The next field's name; its value follows.
    mutating func key(_ name: String)
    mutating func endObject()
    mutating func beginArray()
    mutating func endArray()
    mutating func int(_ v: Int64)
    mutating func bool(_ v: Bool)
    mutating func string(_ s: String)
    mutating func bytes(_ b: ByteBuffer)
    mutating func null()
}

extension KafkaValueWriter {
    mutating func field(_ name: String, _ v: Int64) {
        key(name)
        int(v)
    }

    mutating func field(_ name: String, _ v: Bool) {
        key(name)
        bool(v)
    }

    mutating func field(_ name: String, _ v: String) {
        key(name)
        string(v)
    }

    /// Bytes, or null.
    mutating func field(_ name: String, _ v: ByteBuffer?) {
        key(name)
        if let v { bytes(v) } else { null() }
    }
}

/// Builds the `KafkaValue` tree a stream of events describes.
struct KafkaValueTreeBuilder: KafkaValueWriter {
    private enum Container {
        case object(KafkaObject, pendingKey: String?)
        case array([KafkaValue])
    }

    private var stack: [Container] = []
    private(set) var result: KafkaValue = .null

    private mutating func add(_ value: KafkaValue) {
        guard let top = stack.popLast() else {
            result = value
            return
        }
        switch top {
        case .object(var o, let key):
            o.append(key ?? "", value)
            stack.append(.object(o, pendingKey: nil))
        case .array(var a):
            a.append(value)
            stack.append(.array(a))
        }
    }

    mutating func beginObject() { stack.append(.object(KafkaObject(), pendingKey: nil)) }

    mutating func key(_ name: String) {
        if case .object(let o, _)? = stack.popLast() { stack.append(.object(o, pendingKey: name)) }
    }

    mutating func endObject() {
        if case .object(let o, _)? = stack.popLast() { add(.object(o)) }
    }

    mutating func beginArray() { stack.append(.array([])) }

    mutating func endArray() {
        if case .array(let a)? = stack.popLast() { add(.array(a)) }
    }

    mutating func int(_ v: Int64) { add(.int(v)) }
    mutating func bool(_ v: Bool) { add(.bool(v)) }
    mutating func string(_ s: String) { add(.string(s)) }
    mutating func bytes(_ b: ByteBuffer) { add(.bytes(b)) }
    mutating func null() { add(.null) }
}

/// Writes a stream of events as JSON, byte for byte what `KafkaJSON.render` makes of the same tree
/// (compact or pretty, starting at `indent`).
struct JSONStreamWriter: KafkaValueWriter {
    var json: JSONBytes
    let pretty: Bool
    /// Per open container: whether it has an element yet.
    private var hasElement: [Bool] = []
    private var depth: Int
    /// A key was just written: the value follows on the same line.
    private var afterKey = false

    init(json: JSONBytes, pretty: Bool, indent: Int) {
        self.json = json
        self.pretty = pretty
        depth = indent
    }

    /// Comma and newline before an array element (an object's value comes after its key instead).
    private mutating func element() {
        if afterKey {
            afterKey = false
            return
        }
        guard !hasElement.isEmpty else { return }
        if hasElement[hasElement.count - 1] { json.out.append(UInt8(ascii: ",")) }
        hasElement[hasElement.count - 1] = true
        if pretty { json.newline(depth) }
    }

    private mutating func open(_ bracket: UInt8) {
        element()
        json.out.append(bracket)
        hasElement.append(false)
        depth += 1
    }

    private mutating func close(_ bracket: UInt8) {
        depth -= 1
        if hasElement.removeLast() && pretty { json.newline(depth) }
        json.out.append(bracket)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }

    mutating func key(_ name: String) {
        element()
        json.string(name)
        if pretty { json.literal(": ") } else { json.out.append(UInt8(ascii: ":")) }
        afterKey = true
    }

    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    mutating func int(_ v: Int64) {
        element()
        json.integer(v)
    }

    mutating func bool(_ v: Bool) {
        element()
        json.literal(v ? "true" : "false")
    }

    mutating func string(_ s: String) {
        element()
        json.string(s)
    }

    mutating func bytes(_ b: ByteBuffer) {
        element()
        json.bytes(b, pretty: pretty, indent: depth)
    }

    mutating func null() {
        element()
        json.literal("null")
    }
}
