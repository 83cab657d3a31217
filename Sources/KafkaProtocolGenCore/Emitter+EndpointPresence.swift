import Foundation

/// Finding out whether a response holds broker endpoints without decoding it, for the versions where
/// the schema puts them only in top-level tagged fields (Produce v10+ and Fetch v16+: `NodeEndpoints`,
/// KIP-951, sent only when a partition's leader moved). Every such response of a modern client would
/// otherwise be decoded whole by the proxy's rewriter to find, nearly always, nothing. The generated
/// `endpointsPresent(in:version:)` skips over the untagged fields (lengths and counts only: nothing is
/// allocated or validated beyond them) and looks at the tags.
extension Emitter {
    /// Per version whose endpoints can only be reached through top-level tagged fields, those fields.
    /// Versions that carry endpoints any other way (or none) are absent.
    func taggedOnlyEndpointFields() throws -> [(version: Int, fields: [Field])] {
        guard spec.kind == "response" else { return [] }
        let top = "\u{0}top"
        var result: [(Int, [Field])] = []
        for v in 0...VersionSet.maxVersion where valid.contains(v) {
            let (carriers, fieldsByName) = try endpointCarriers(at: v, topName: top)
            guard carriers.contains(top), let topFields = fieldsByName[top], !isEndpoint(topFields) else { continue }
            let through = topFields.filter { f in f.type.structName.map { carriers.contains($0) } == true }
            guard !through.isEmpty, through.allSatisfy({ $0.tag != nil }) else { continue }
            result.append((v, through))
        }
        return result
    }

    /// The `endpointsPresent(in:version:)` extension and the skip functions it needs; empty when no
    /// version of the message keeps its endpoints only in tagged fields.
    func emitEndpointPresence() throws {
        let versions = try taggedOnlyEndpointFields()
        guard !versions.isEmpty else { return }
        // The same tagged fields in every such version (checked: the emitted switch relies on it).
        let tags = Set(versions.flatMap { $0.fields.map { $0.tag ?? -1 } })
        let byTag = Dictionary(versions.flatMap { $0.fields }.map { ($0.tag ?? -1, $0) }, uniquingKeysWith: { a, _ in a })
        var set = VersionSet.empty
        for v in versions { set = set | VersionSet(range: v.version, v.version) }
        if !(set & flexibleSet == set) { throw GenError("\(spec.name): tagged endpoint fields in a version that is not flexible") }
        line()
        try block("extension \(spec.name)") { e in
            e.line("/// Whether a response body of `version` holds broker endpoints, found by skipping over it instead of")
            e.line("/// decoding it: true when a top-level tagged field that can hold them (tag \(tags.sorted().map(String.init).joined(separator: ", "))) is")
            e.line("/// there and not empty, false when none is. nil outside versions \(set.description): there the endpoints")
            e.line("/// are not only in tagged fields, or not at all (decode those). Throws where the bytes do not parse.")
            try e.block("public static func endpointsPresent(in r: inout KafkaReader, version: Int16) throws(KafkaDecodingError) -> Bool?") { e in
                e.line("guard \(e.condition(set) ?? "true") else { return nil }")
                e.line("let flexible = true")
                e.line("_ = flexible")
                for f in e.spec.fields where f.tag == nil && !e.presence(f).isEmpty {
                    try e.emitSkipGuarded(f, reader: "r")
                }
                e.line("let count = try r.readTaggedFieldCount()")
                e.line("var previous: Int64 = -1")
                e.line("var present = false")
                try e.block("for _ in 0..<count") { e in
                    e.line("var (tag, sub) = try r.readTaggedField(previous: &previous)")
                    e.line("switch tag {")
                    for tag in tags.sorted() {
                        guard let f = byTag[tag] else { continue }
                        let c = e.condition(e.presence(f) & set)
                        e.line("case \(tag)\(c.map { " where \($0)" } ?? ""):")
                        if case .array = f.type {
                            e.line("    if let n = try sub.readArrayCount(compact: \(e.compactExpression(f))), n > 0 { present = true }")
                        } else {
                            e.line("    present = true")
                        }
                    }
                    e.line("default:")
                    e.line("    break")
                    e.line("}")
                    e.line("_ = sub")
                }
                e.line("try r.expectEnd()")
                e.line("return present")
            }
        }
        // Skip functions for the structs reached through untagged fields only: a tagged field is skipped
        // whole by its size.
        let defs = try structs()
        var reached: Set<String> = []
        var pending = spec.fields.filter { $0.tag == nil && !presence($0).isEmpty }.compactMap(\.type.structName)
        while let name = pending.popLast() {
            guard reached.insert(name).inserted, let d = defs.first(where: { $0.name == name }) else { continue }
            pending += d.fields.filter { $0.tag == nil && !presence($0).isEmpty }.compactMap(\.type.structName)
        }
        for s in defs where reached.contains(s.name) {
            line()
            try block("extension \(spec.name).\(s.name)") { e in
                e.line("/// Moves `r` past one encoded value of this struct at `version`, reading only lengths and counts.")
                try e.block("static func skipEncoded(_ r: inout KafkaReader, version: Int16) throws(KafkaDecodingError)") { e in
                    let fields = s.fields.filter { !e.presence($0).isEmpty }
                    if !e.flexibleSet.isEmpty {
                        e.line("let flexible = \(e.condition(e.flexibleSet) ?? "true")")
                        e.line("_ = flexible")
                    }
                    for f in fields where f.tag == nil { try e.emitSkipGuarded(f, reader: "r") }
                    if !e.flexibleSet.isEmpty { e.line("if flexible { try r.skipTaggedFields() }") }
                }
            }
        }
    }

    /// Skips field `f` where it is present.
    func emitSkipGuarded(_ f: Field, reader r: String) throws {
        if let c = condition(presence(f)) {
            try block("if \(c)") { e in try e.emitSkip(f, reader: r) }
        } else {
            try emitSkip(f, reader: r)
        }
    }

    /// Statements that move `r` past field `f` (present at this version).
    func emitSkip(_ f: Field, reader r: String) throws {
        let compact = compactExpression(f)
        if case .structure(let n) = f.type, !nullableSet(f).isEmpty {
            // A nullable struct starts with a presence byte (-1: null) where it is nullable.
            let skip = "try \(spec.name).\(n).skipEncoded(&\(r), version: version)"
            if let c = condition(nullableSet(f) & presence(f)), c != "true", nullableSet(f) != presence(f) {
                line("if \(c) { if try \(r).readInt8() >= 0 { \(skip) } } else { \(skip) }")
            } else {
                line("if try \(r).readInt8() >= 0 { \(skip) }")
            }
            return
        }
        line(try skipStatement(f.type, compact: compact, reader: r))
    }

    func skipStatement(_ t: FieldType, compact: String, reader r: String) throws -> String {
        switch t {
        case .primitive(let p):
            switch p {
            case "bool", "int8": return "try \(r).skip(1)"
            case "int16", "uint16": return "try \(r).skip(2)"
            case "int32", "uint32": return "try \(r).skip(4)"
            case "int64", "float64": return "try \(r).skip(8)"
            case "uuid": return "try \(r).skip(16)"
            case "string": return "try \(r).skipString(compact: \(compact))"
            case "bytes", "records": return "try \(r).skipBytes(compact: \(compact))"
            default: throw GenError("unknown primitive \(p)")
            }
        case .structure(let n):
            return "try \(spec.name).\(n).skipEncoded(&\(r), version: version)"
        case .array(let elem):
            let inner = try skipStatement(elem, compact: compact, reader: r)
            return "if let n = try \(r).readArrayCount(compact: \(compact)) { for _ in 0..<n { \(inner) } }"
        }
    }
}

/// `KafkaAPIs.responseEndpointsPresent(apiKey:apiVersion:body:)`: the dispatch to every response's
/// `endpointsPresent(in:version:)`.
func emitEndpointPresenceDispatch(specs: [MessageSpec], label: String) throws -> String {
    var cases: [(key: Int, name: String)] = []
    for s in specs where s.kind == "response" {
        guard let key = s.apiKey else { continue }
        if try !Emitter(spec: s, kafkaVersions: label).taggedOnlyEndpointFields().isEmpty { cases.append((key, s.name)) }
    }
    cases.sort { $0.key < $1.key }
    var s = "\n    /// Whether a response body (after its header) holds broker endpoints, found without decoding it: for\n"
    s += "    /// the versions whose endpoints live only in top-level tagged fields (`endpointsPresent(in:version:)`\n"
    s += "    /// of \(cases.map { $0.name }.joined(separator: ", "))). nil when that cannot tell: another API or version, or bytes\n"
    s += "    /// that do not parse (decode those to find out, and to report them).\n"
    s += "    public static func responseEndpointsPresent(apiKey: Int16, apiVersion: Int16, body: ByteBuffer) -> Bool? {\n"
    s += "        var r = KafkaReader(body)\n"
    s += "        switch apiKey {\n"
    for c in cases {
        s += "        case \(c.key): return (try? \(c.name).endpointsPresent(in: &r, version: apiVersion)) ?? nil\n"
    }
    s += "        default: return nil\n"
    s += "        }\n"
    s += "    }\n"
    return s
}
