import Foundation

/// Writes Swift source for one merged message spec.
final class Emitter {
    let spec: MessageSpec
    let kafkaVersions: String
    var out = ""
    var indent = 0

    init(spec: MessageSpec, kafkaVersions: String) {
        self.spec = spec
        self.kafkaVersions = kafkaVersions
    }

    var valid: VersionSet { spec.valid }

    func line(_ s: String = "") {
        if s.isEmpty {
            out += "\n"
        } else {
            out += String(repeating: "    ", count: indent) + s + "\n"
        }
    }

    func block(_ head: String, _ body: (Emitter) throws -> Void) rethrows {
        line(head + " {")
        indent += 1
        try body(self)
        indent -= 1
        line("}")
    }

    // MARK: Version conditions

    /// A Swift condition on `version` that is true exactly for the versions of `set` among the valid
    /// ones; nil when it is always true. Versions outside the valid set never reach a decoder, so bounds
    /// that coincide with the valid range's ends are left out.
    func condition(_ set: VersionSet) -> String? {
        let eff = set & valid
        if eff == valid { return nil }
        if eff.isEmpty { return "false" }
        let lo = valid.min ?? 0
        let hi = valid.max ?? 0
        let parts: [String] = eff.ranges.map { r in
            if r.lowerBound == r.upperBound { return "version == \(r.lowerBound)" }
            var c: [String] = []
            if r.lowerBound > lo { c.append("version >= \(r.lowerBound)") }
            if r.upperBound < hi { c.append("version <= \(r.upperBound)") }
            return c.isEmpty ? "true" : c.joined(separator: " && ")
        }
        if parts.count == 1 { return parts[0] }
        return parts.map { "(\($0))" }.joined(separator: " || ")
    }

    var flexibleSet: VersionSet { spec.flexible & valid }

    // MARK: Names and types

    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "func", "import", "init", "inout", "internal",
        "let", "operator", "private", "protocol", "public", "static", "struct", "subscript", "typealias", "var",
        "break", "case", "continue", "default", "defer", "do", "else", "fallthrough", "for", "guard", "if", "in",
        "repeat", "return", "switch", "where", "while", "as", "catch", "false", "is", "nil", "rethrows", "super",
        "self", "Self", "throw", "throws", "true", "try", "Type", "Protocol", "any", "some",
    ]

    static func propertyName(_ field: String) -> String {
        // Lower-case the leading run of capitals except the one that starts the next word: `IsrNodes` ->
        // `isrNodes`, `UUID` -> `uuid` (a name of capitals only), and so `ACLs` -> `acLs` (no field in the
        // specs is spelled that way).
        let chars = Array(field)
        var i = 0
        while i < chars.count && chars[i].isUppercase { i += 1 }
        var name: String
        if i <= 1 || i == chars.count {
            name = String(chars[0..<min(max(i, 1), chars.count)]).lowercased() + String(chars[min(max(i, 1), chars.count)...])
        } else {
            name = String(chars[0..<(i - 1)]).lowercased() + String(chars[(i - 1)...])
        }
        if keywords.contains(name) { return "`\(name)`" }
        return name
    }

    func swiftElementType(_ t: FieldType) -> String {
        switch t {
        case .primitive(let p):
            switch p {
            case "bool": return "Bool"
            case "int8": return "Int8"
            case "int16": return "Int16"
            case "uint16": return "UInt16"
            case "int32": return "Int32"
            case "uint32": return "UInt32"
            case "int64": return "Int64"
            case "float64": return "Double"
            case "string": return "String"
            case "bytes", "records": return "ByteBuffer"
            case "uuid": return "KafkaUUID"
            default: return "Never"
            }
        case .structure(let n): return n
        case .array(let e): return "[\(swiftElementType(e))]"
        }
    }

    func presence(_ f: Field) -> VersionSet { f.versions & valid }
    func nullableSet(_ f: Field) -> VersionSet { f.nullable & presence(f) }

    /// The stored type: optional when null is possible in any version.
    func valueType(_ f: Field) -> String {
        let base = swiftElementType(f.type)
        return nullableSet(f).isEmpty ? base : base + "?"
    }

    func propertyType(_ f: Field) -> String {
        f.tag != nil ? valueType(f) + "?" : valueType(f)
    }

    func defaultExpression(_ f: Field) -> String {
        if f.tag != nil { return "nil" }
        let nullable = !nullableSet(f).isEmpty
        let d = f.defaultValue?.trimmingCharacters(in: .whitespaces)
        if nullable && d == "null" { return "nil" }
        switch f.type {
        case .array: return "[]"
        case .structure(let n): return "\(n)()"
        case .primitive(let p):
            switch p {
            case "bool": return d == "true" ? "true" : "false"
            case "int8", "int16", "uint16", "int32", "uint32", "int64":
                guard let d, !d.isEmpty else { return "0" }
                // JSON numbers 0 and 1 can come back from Foundation as booleans.
                if d == "true" { return "1" }
                if d == "false" { return "0" }
                return d
            case "float64":
                guard let d, !d.isEmpty else { return "0" }
                return d.contains(".") || d.contains("e") ? d : d + ".0"
            case "string":
                guard let d, d != "null" else { return "\"\"" }
                return swiftStringLiteral(d)
            case "bytes", "records": return "ByteBuffer()"
            case "uuid": return "KafkaUUID.zero"
            default: return "0"
            }
        }
    }

    func swiftStringLiteral(_ s: String) -> String {
        var r = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": r += "\\\""
            case "\\": r += "\\\\"
            case "\n": r += "\\n"
            default: r.unicodeScalars.append(c)
            }
        }
        return r + "\""
    }

    func compactExpression(_ f: Field) -> String {
        if flexibleSet.isEmpty { return "false" }
        if let o = f.flexibleOverride {
            return condition(o & flexibleSet) ?? "true"
        }
        return "flexible"
    }

    // MARK: Structs

    /// Every struct the message uses, in first-use order, with their fields.
    func structs() throws -> [StructDef] {
        var seen: Set<String> = []
        var result: [StructDef] = []
        func visit(_ fields: [Field]) throws {
            for f in fields where !presence(f).isEmpty {
                guard let name = f.type.structName else { continue }
                if seen.contains(name) { continue }
                let sub: [Field]
                if let inline = f.fields {
                    sub = inline
                } else if let common = spec.commonStructs[name] {
                    sub = common
                } else {
                    throw GenError("\(spec.name): struct \(name) has no definition")
                }
                seen.insert(name)
                result.append(StructDef(name: name, fields: sub))
                try visit(sub)
            }
        }
        try visit(spec.fields)
        return result
    }

    func emitFile() throws -> String {
        out = ""
        line("// DO NOT EDIT. Generated by KafkaProtocolGen from \(spec.sources.joined(separator: " and ")) (\(kafkaVersions)).")
        line("// Regenerate with tools/generate-protocol; tools/check-generated verifies this file.")
        line()
        line("import NIOCore")
        line()
        guard let vmin = valid.min, let vmax = valid.max else { throw GenError("\(spec.name) has no versions") }
        if valid.ranges.count != 1 { throw GenError("\(spec.name): valid versions \(valid.description) are not contiguous") }
        let flex = flexibleSet
        if let fmin = flex.min, flex.max != vmax || flex.ranges.count != 1 {
            throw GenError("\(spec.name): flexible versions from \(fmin) are not a suffix")
        }
        let kind = spec.kind
        if kind == "request" || kind == "response" {
            line("/// Kafka API key \(spec.apiKey ?? -1), versions \(vmin)-\(vmax)\(flex.min.map { ", flexible from \($0)" } ?? "").")
        } else {
            line("/// Kafka \(kind) schema, versions \(vmin)-\(vmax).")
        }
        try block("public struct \(spec.name): KafkaMessage") { e in
            e.line("public static let apiKey: Int16 = \(spec.apiKey ?? -1)")
            e.line("public static let kind: KafkaMessageKind = .\(kind)")
            e.line("public static let schemaName = \"\(spec.name)\"")
            e.line("public static let versions: ClosedRange<Int16> = \(vmin)...\(vmax)")
            e.line("public static let firstFlexibleVersion: Int16? = \(flex.min.map(String.init) ?? "nil")")
            e.line()
            try e.emitStructBody(fields: spec.fields)
        }
        for s in try structs() {
            line()
            try block("extension \(spec.name)") { e in
                try e.block("public struct \(s.name): KafkaStruct") { e in
                    try e.emitStructBody(fields: s.fields)
                }
            }
        }
        try emitVisitorCarriers(endpointVisitor)
        try emitVisitorCarriers(errorCodeVisitor)
        try emitEndpointPresence()
        return out
    }

    func emitStructBody(fields all: [Field]) throws {
        let fields = all.filter { !presence($0).isEmpty }
        for f in fields {
            if let about = f.about, !about.isEmpty {
                line("/// \(about.replacingOccurrences(of: "\n", with: " "))")
            }
            var notes: [String] = ["versions \(presence(f).description)"]
            if !nullableSet(f).isEmpty { notes.append("nullable \(nullableSet(f).description)") }
            if let t = f.tag { notes.append("tag \(t), absent when nil") }
            if let e = f.entityType { notes.append("entity \(e)") }
            if f.mapKey { notes.append("map key") }
            line("/// (\(notes.joined(separator: "; ")))")
            line("public var \(Emitter.propertyName(f.name)): \(propertyType(f)) = \(defaultExpression(f))")
        }
        line("public var unknownTaggedFields: [KafkaTaggedField] = []")
        line()
        line("public init() {}")
        line()
        try emitDecode(fields)
        line()
        try emitEncode(fields)
        line()
        emitRender(fields)
        line()
        emitSetField(fields)
    }

    func usesFlexible(_ fields: [Field]) -> Bool {
        if flexibleSet.isEmpty { return false }
        return true
    }

    // MARK: Decode

    func emitDecode(_ fields: [Field]) throws {
        try block("public init(from r: inout KafkaReader, version: Int16) throws(KafkaDecodingError)") { e in
            e.line("self.init()")
            let hasFlexible = !e.flexibleSet.isEmpty
            if hasFlexible { e.line("let flexible = \(e.condition(e.flexibleSet) ?? "true")") }
            for f in fields where f.tag == nil {
                let prop = "self." + Emitter.propertyName(f.name)
                let body: (Emitter) throws -> Void = { e in
                    try e.block("do") { e in
                        try e.emitRead(f, into: prop, reader: "r")
                    }
                    e.line("catch { throw error.at(\(e.swiftStringLiteral(f.name))) }")
                }
                if let c = e.condition(e.presence(f)) {
                    try e.block("if \(c)", body)
                } else {
                    try body(e)
                }
            }
            guard hasFlexible else { return }
            let tagged = fields.filter { $0.tag != nil }
            try e.block("if flexible") { e in
                e.line("let count = try r.readTaggedFieldCount()")
                e.line("var previous: Int64 = -1")
                try e.block("for _ in 0..<count") { e in
                    e.line("let (tag, tagReader) = try r.readTaggedField(previous: &previous)")
                    if tagged.isEmpty {
                        e.line("self.unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: tagReader.buffer))")
                        return
                    }
                    e.line("switch tag {")
                    for f in tagged {
                        let c = e.condition(e.presence(f))
                        e.line("case \(f.tag ?? 0)\(c.map { " where \($0)" } ?? ""):")
                        e.indent += 1
                        e.line("var sub = tagReader")
                        e.line("let size = sub.remaining")
                        try e.block("do") { e in
                            try e.emitRead(f, into: "self." + Emitter.propertyName(f.name), reader: "sub")
                            e.line("try sub.expectTaggedFieldEnd(tag: tag, size: size)")
                        }
                        e.line("catch { throw error.at(\(e.swiftStringLiteral(f.name))) }")
                        e.indent -= 1
                    }
                    e.line("default:")
                    e.line("    self.unknownTaggedFields.append(KafkaTaggedField(tag: tag, data: tagReader.buffer))")
                    e.line("}")
                }
            }
        }
    }

    /// Statements that read field `f` (present at this version) from `reader` into `target`.
    func emitRead(_ f: Field, into target: String, reader: String) throws {
        let nullable = nullableSet(f)
        let compact = compactExpression(f)
        if nullable.isEmpty {
            line("\(target) = \(try readExpression(f.type, nullable: false, compact: compact, reader: reader))")
        } else if let c = condition(nullable), c != "true" {
            // Nullable only in some versions.
            let presentOnly = presence(f)
            let nullCond = nullable == presentOnly ? nil : c
            if let nullCond {
                try block("if \(nullCond)") { e in
                    e.line("\(target) = \(try e.readExpression(f.type, nullable: true, compact: compact, reader: reader))")
                }
                try block("else") { e in
                    e.line("\(target) = \(try e.readExpression(f.type, nullable: false, compact: compact, reader: reader))")
                }
            } else {
                line("\(target) = \(try readExpression(f.type, nullable: true, compact: compact, reader: reader))")
            }
        } else {
            line("\(target) = \(try readExpression(f.type, nullable: true, compact: compact, reader: reader))")
        }
    }

    func readExpression(_ t: FieldType, nullable: Bool, compact: String, reader r: String) throws -> String {
        switch t {
        case .primitive(let p):
            switch p {
            case "bool": return "try \(r).readBool()"
            case "int8": return "try \(r).readInt8()"
            case "int16": return "try \(r).readInt16()"
            case "uint16": return "try \(r).readUInt16()"
            case "int32": return "try \(r).readInt32()"
            case "uint32": return "try \(r).readUInt32()"
            case "int64": return "try \(r).readInt64()"
            case "float64": return "try \(r).readFloat64()"
            case "uuid": return "try \(r).readUUID()"
            case "string":
                return nullable ? "try \(r).readNullableString(compact: \(compact))" : "try \(r).readString(compact: \(compact))"
            case "bytes", "records":
                return nullable ? "try \(r).readNullableBytes(compact: \(compact))" : "try \(r).readBytes(compact: \(compact))"
            default: throw GenError("unknown primitive \(p)")
            }
        case .structure(let n):
            if nullable { return "try \(r).readInt8() < 0 ? nil : \(n)(from: &\(r), version: version)" }
            return "try \(n)(from: &\(r), version: version)"
        case .array(let elem):
            let et = swiftElementType(elem)
            let inner = try readExpression(elem, nullable: false, compact: compact, reader: "er")
            let fn = nullable ? "readArray" : "readNonNullArray"
            return "try \(r).\(fn)(compact: \(compact)) { (er: inout KafkaReader) throws(KafkaDecodingError) -> \(et) in \(inner) }"
        }
    }

    // MARK: Encode

    func emitEncode(_ fields: [Field]) throws {
        try block("public func encode(to w: inout KafkaWriter, version: Int16)") { e in
            let hasFlexible = !e.flexibleSet.isEmpty
            if hasFlexible { e.line("let flexible = \(e.condition(e.flexibleSet) ?? "true")") }
            for f in fields where f.tag == nil {
                let value = "self." + Emitter.propertyName(f.name)
                if let c = e.condition(e.presence(f)) {
                    try e.block("if \(c)") { e in try e.emitWrite(f, value: value, writer: "w") }
                } else {
                    try e.emitWrite(f, value: value, writer: "w")
                }
            }
            guard hasFlexible else { return }
            let tagged = fields.filter { $0.tag != nil }.sorted { ($0.tag ?? 0) < ($1.tag ?? 0) }
            try e.block("if flexible") { e in
                if tagged.isEmpty {
                    e.line("KafkaTaggedFieldWriter.writeUnknown(self.unknownTaggedFields, to: &w)")
                    return
                }
                e.line("var tagged = KafkaTaggedFieldWriter()")
                for f in tagged {
                    let c = e.condition(e.presence(f))
                    try e.block("if \(c.map { "\($0), " } ?? "")let value = self.\(Emitter.propertyName(f.name))") { e in
                        try e.block("tagged.add(\(f.tag ?? 0))") { e in
                            e.line("(tw: inout KafkaWriter) in")
                            try e.emitWrite(f, value: "value", writer: "tw")
                        }
                    }
                }
                e.line("tagged.write(to: &w, unknown: self.unknownTaggedFields)")
            }
        }
    }

    func emitWrite(_ f: Field, value: String, writer w: String) throws {
        let nullable = nullableSet(f)
        let compact = compactExpression(f)
        let isOptional = !nullable.isEmpty
        if case .structure(let n) = f.type, isOptional {
            // Nullable struct: int8 -1 for null, 1 then the struct otherwise (only in nullable versions).
            if let c = condition(nullable), c != "true", nullable != presence(f) {
                try block("if \(c)") { e in e.emitNullableStructWrite(value: value, writer: w) }
                line("else { (\(value) ?? \(n)()).encode(to: &\(w), version: version) }")
            } else {
                emitNullableStructWrite(value: value, writer: w)
            }
            return
        }
        line(try writeStatement(f.type, value: value, optional: isOptional, compact: compact, writer: w))
    }

    func emitNullableStructWrite(value: String, writer w: String) {
        line("if let s = \(value) { \(w).writeInt8(1); s.encode(to: &\(w), version: version) } else { \(w).writeInt8(-1) }")
    }

    func writeStatement(_ t: FieldType, value v: String, optional: Bool, compact: String, writer w: String) throws -> String {
        switch t {
        case .primitive(let p):
            switch p {
            case "bool": return "\(w).writeBool(\(v))"
            case "int8": return "\(w).writeInt8(\(v))"
            case "int16": return "\(w).writeInt16(\(v))"
            case "uint16": return "\(w).writeUInt16(\(v))"
            case "int32": return "\(w).writeInt32(\(v))"
            case "uint32": return "\(w).writeUInt32(\(v))"
            case "int64": return "\(w).writeInt64(\(v))"
            case "float64": return "\(w).writeFloat64(\(v))"
            case "uuid": return "\(w).writeUUID(\(v))"
            case "string":
                return optional ? "\(w).writeNullableString(\(v), compact: \(compact))" : "\(w).writeString(\(v), compact: \(compact))"
            case "bytes", "records":
                return optional ? "\(w).writeNullableBytes(\(v), compact: \(compact))" : "\(w).writeBytes(\(v), compact: \(compact))"
            default: throw GenError("unknown primitive \(p)")
            }
        case .structure:
            return "\(v).encode(to: &\(w), version: version)"
        case .array(let elem):
            let et = swiftElementType(elem)
            let inner = try writeStatement(elem, value: "element", optional: false, compact: compact, writer: "ew")
            return "\(w).writeArray(\(v), compact: \(compact)) { (ew: inout KafkaWriter, element: \(et)) in \(inner) }"
        }
    }

    // MARK: Render

    /// The inverse of `kafkaValue(version:)`, field by field: a path step names a field as it renders,
    /// and only in the versions that have it.
    func emitSetField(_ fields: [Field]) {
        block("public mutating func setField(_ path: ArraySlice<KafkaFieldStep>, to value: KafkaValue, version: Int16) -> Bool") { e in
            guard !fields.isEmpty else {
                e.line("return false")
                return
            }
            e.line("guard case .field(let name)? = path.first else { return false }")
            e.line("let rest = path.dropFirst()")
            e.line("switch name {")
            for f in fields {
                let prop = "self." + Emitter.propertyName(f.name)
                let set = "return \(prop).setField(rest, to: value, version: version)"
                if let c = e.condition(e.presence(f)) {
                    e.line("case \(e.swiftStringLiteral(f.name)): guard \(c) else { return false }; \(set)")
                } else {
                    e.line("case \(e.swiftStringLiteral(f.name)): \(set)")
                }
            }
            e.line("default: return false")
            e.line("}")
        }
    }

    func emitRender(_ fields: [Field]) {
        block("public func kafkaValue(version: Int16) -> KafkaValue") { e in
            e.line("var o = KafkaObject()")
            for f in fields {
                let name = e.swiftStringLiteral(f.name)
                let prop = "self." + Emitter.propertyName(f.name)
                let isRecords: Bool = { if case .primitive("records") = f.type { return true } else { return false } }()
                var conds: [String] = []
                if let c = e.condition(e.presence(f)) { conds.append(c) }
                var value = prop
                if f.tag != nil {
                    conds.append("let value = \(prop)")
                    value = "value"
                }
                let rendered: String
                if isRecords {
                    rendered = e.nullableSet(f).isEmpty ? "KafkaValue.records(\(value))" : "\(value).map { KafkaValue.records($0) } ?? .null"
                } else {
                    rendered = "\(value).kafkaValue(version: version)"
                }
                if conds.isEmpty {
                    e.line("o.append(\(name), \(rendered))")
                } else {
                    e.line("if \(conds.joined(separator: ", ")) { o.append(\(name), \(rendered)) }")
                }
            }
            e.line("if !self.unknownTaggedFields.isEmpty { o.append(\"_unknownTaggedFields\", self.unknownTaggedFields.kafkaValue(version: version)) }")
            e.line("return .object(o)")
        }
    }
}
