import Foundation

/// A set of versions 0...63 as a bit mask.
struct VersionSet: Equatable {
    var bits: UInt64

    static let empty = VersionSet(bits: 0)
    static let maxVersion = 63

    init(bits: UInt64) { self.bits = bits }

    init(range lo: Int, _ hi: Int) {
        var b: UInt64 = 0
        if lo <= hi {
            for v in lo...hi { b |= 1 << UInt64(v) }
        }
        bits = b
    }

    /// Parses Kafka's version spec: "none", "N", "N-M", "N+".
    init(spec: String) throws {
        let s = spec.trimmingCharacters(in: .whitespaces)
        if s == "none" || s.isEmpty {
            self = .empty
        } else if s.hasSuffix("+") {
            guard let lo = Int(s.dropLast()) else { throw GenError("bad version spec \(spec)") }
            self.init(range: lo, VersionSet.maxVersion)
        } else if let dash = s.firstIndex(of: "-") {
            guard let lo = Int(s[..<dash]), let hi = Int(s[s.index(after: dash)...]) else {
                throw GenError("bad version spec \(spec)")
            }
            self.init(range: lo, hi)
        } else {
            guard let v = Int(s) else { throw GenError("bad version spec \(spec)") }
            self.init(range: v, v)
        }
    }

    func contains(_ v: Int) -> Bool { v >= 0 && v <= 63 && bits & (1 << UInt64(v)) != 0 }
    var isEmpty: Bool { bits == 0 }
    static func & (a: VersionSet, b: VersionSet) -> VersionSet { VersionSet(bits: a.bits & b.bits) }
    static func | (a: VersionSet, b: VersionSet) -> VersionSet { VersionSet(bits: a.bits | b.bits) }
    static prefix func ~ (a: VersionSet) -> VersionSet { VersionSet(bits: ~a.bits) }
    func isSuperset(of other: VersionSet) -> Bool { other.bits & ~bits == 0 }

    var min: Int? { bits == 0 ? nil : bits.trailingZeroBitCount }
    var max: Int? { bits == 0 ? nil : 63 - bits.leadingZeroBitCount }

    /// Contiguous runs, ascending.
    var ranges: [ClosedRange<Int>] {
        var out: [ClosedRange<Int>] = []
        var v = 0
        while v <= 63 {
            if contains(v) {
                let start = v
                while v + 1 <= 63 && contains(v + 1) { v += 1 }
                out.append(start...v)
            }
            v += 1
        }
        return out
    }

    var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

struct GenError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}

indirect enum FieldType: Equatable {
    case primitive(String)
    case structure(String)
    case array(FieldType)

    static let primitives: Set<String> = [
        "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64", "string", "bytes", "uuid", "records",
    ]

    init(_ s: String) throws {
        if s.hasPrefix("[]") {
            self = .array(try FieldType(String(s.dropFirst(2))))
        } else if FieldType.primitives.contains(s) {
            self = .primitive(s)
        } else if let c = s.first, c.isUppercase {
            self = .structure(s)
        } else {
            throw GenError("unknown type \(s)")
        }
    }

    var structName: String? {
        switch self {
        case .structure(let n): return n
        case .array(let e): return e.structName
        case .primitive: return nil
        }
    }
}

/// One field of a schema, with its version sets already merged across the spec folders.
final class Field {
    var name: String
    var type: FieldType
    var versions: VersionSet
    var nullable: VersionSet
    var tag: Int?
    var defaultValue: String?
    var mapKey: Bool
    var entityType: String?
    var about: String?
    /// Field-level override of the message's flexible versions (only RequestHeader.ClientId has one).
    var flexibleOverride: VersionSet?
    /// Inline struct fields, when the field defines its struct.
    var fields: [Field]?

    init(json: [String: Any]) throws {
        guard let name = json["name"] as? String, let type = json["type"] as? String else {
            throw GenError("field without name/type: \(json)")
        }
        self.name = name
        self.type = try FieldType(type)
        let versions = try VersionSet(spec: json["versions"] as? String ?? "none")
        self.versions = versions
        self.nullable = try VersionSet(spec: json["nullableVersions"] as? String ?? "none")
        self.tag = json["tag"] as? Int
        if tag != nil {
            let tagged = try VersionSet(spec: json["taggedVersions"] as? String ?? "none")
            if tagged != versions { throw GenError("field \(name): taggedVersions differ from versions") }
        }
        switch json["default"] {
        case let s as String: defaultValue = s
        case let b as Bool: defaultValue = b ? "true" : "false"
        case let n as NSNumber: defaultValue = n.stringValue
        default: defaultValue = nil
        }
        mapKey = json["mapKey"] as? Bool ?? false
        entityType = json["entityType"] as? String
        about = json["about"] as? String
        if let f = json["flexibleVersions"] as? String { flexibleOverride = try VersionSet(spec: f) }
        if let sub = json["fields"] as? [[String: Any]] {
            fields = try sub.map(Field.init(json:))
        }
    }
}

struct StructDef {
    var name: String
    var fields: [Field]
}

/// One schema file (request, response, header or data), possibly merged from two Kafka versions.
final class MessageSpec {
    var name: String
    var kind: String
    var apiKey: Int?
    var valid: VersionSet
    var flexible: VersionSet
    var fields: [Field]
    var commonStructs: [String: [Field]]
    var commonStructOrder: [String]
    var sources: [String]
    var latestVersionUnstable: Bool

    init(json: [String: Any], source: String) throws {
        guard let name = json["name"] as? String, let kind = json["type"] as? String else {
            throw GenError("\(source): no name/type")
        }
        self.name = name
        self.kind = kind
        apiKey = json["apiKey"] as? Int
        valid = try VersionSet(spec: json["validVersions"] as? String ?? "none")
        flexible = try VersionSet(spec: json["flexibleVersions"] as? String ?? "none")
        fields = try (json["fields"] as? [[String: Any]] ?? []).map(Field.init(json:))
        commonStructs = [:]
        commonStructOrder = []
        for cs in json["commonStructs"] as? [[String: Any]] ?? [] {
            guard let n = cs["name"] as? String else { throw GenError("\(source): common struct without name") }
            commonStructs[n] = try (cs["fields"] as? [[String: Any]] ?? []).map(Field.init(json:))
            commonStructOrder.append(n)
        }
        sources = [source]
        latestVersionUnstable = json["latestVersionUnstable"] as? Bool ?? false
    }

    /// Folds an older spec of the same message in: versions that only the older spec has take its
    /// field definitions; every other version keeps this spec's.
    func merge(older: MessageSpec) {
        let oldOnly = older.valid & ~valid
        sources.append(older.sources[0])
        guard !oldOnly.isEmpty else { return }
        flexible = (flexible & valid) | (older.flexible & oldOnly)
        let keep = valid
        valid = valid | older.valid
        fields = MessageSpec.mergeFields(fields, older.fields, keep: keep, oldOnly: oldOnly)
        for name in older.commonStructOrder {
            let oldFields = older.commonStructs[name] ?? []
            if let mine = commonStructs[name] {
                commonStructs[name] = MessageSpec.mergeFields(mine, oldFields, keep: keep, oldOnly: oldOnly)
            } else {
                commonStructs[name] = MessageSpec.mergeFields([], oldFields, keep: keep, oldOnly: oldOnly)
                commonStructOrder.append(name)
            }
        }
    }

    static func mergeFields(_ new: [Field], _ old: [Field], keep: VersionSet, oldOnly: VersionSet) -> [Field] {
        var result: [Field] = []
        let oldByName = Dictionary(old.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for f in new {
            let o = oldByName[f.name]
            f.versions = (f.versions & keep) | ((o?.versions ?? .empty) & oldOnly)
            f.nullable = (f.nullable & keep) | ((o?.nullable ?? .empty) & oldOnly)
            if let sub = f.fields {
                f.fields = mergeFields(sub, o?.fields ?? [], keep: keep, oldOnly: oldOnly)
            }
            result.append(f)
        }
        // Fields only the older spec has: insert after their predecessor in the older order.
        let newNames = Set(new.map(\.name))
        for (i, o) in old.enumerated() where !newNames.contains(o.name) {
            o.versions = o.versions & oldOnly
            o.nullable = o.nullable & oldOnly
            if o.versions.isEmpty { continue }
            if let sub = o.fields { o.fields = mergeFields([], sub, keep: keep, oldOnly: oldOnly) }
            var insertAt = 0
            if i > 0 {
                let pred = old[i - 1].name
                if let idx = result.firstIndex(where: { $0.name == pred }) { insertAt = idx + 1 }
            }
            result.insert(o, at: insertAt)
        }
        return result
    }
}

/// Reads a spec file: strips `//` comments outside string literals, then parses JSON.
func loadSpec(_ url: URL) throws -> [String: Any] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var out = ""
    out.reserveCapacity(text.count)
    var inString = false
    var escaped = false
    var chars = Array(text)
    var i = 0
    while i < chars.count {
        let c = chars[i]
        if inString {
            out.append(c)
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            i += 1
            continue
        }
        if c == "\"" {
            inString = true
            out.append(c)
            i += 1
        } else if c == "/" && i + 1 < chars.count && chars[i + 1] == "/" {
            while i < chars.count && chars[i] != "\n" { i += 1 }
        } else {
            out.append(c)
            i += 1
        }
    }
    chars = []
    guard let data = out.data(using: .utf8),
        let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw GenError("\(url.lastPathComponent): not a JSON object") }
    return obj
}
