import Foundation

/// Emits seeded random instances for the round-trip tests (written into the test target, not the library).
extension Emitter {
    func emitArbitrary() throws -> String {
        out = ""
        try emitArbitraryExtension(typeName: spec.name, fields: spec.fields, conformance: "ArbitraryKafkaMessage")
        for s in try structs() {
            try emitArbitraryExtension(typeName: "\(spec.name).\(s.name)", fields: s.fields, conformance: "ArbitraryKafkaStruct")
        }
        return out
    }

    func emitArbitraryExtension(typeName: String, fields all: [Field], conformance: String) throws {
        let fields = all.filter { !presence($0).isEmpty }
        try block("extension \(typeName): \(conformance)") { e in
            try e.block("static func arbitrary(version: Int16, rng: inout SeededRandom, depth: Int) -> Self") { e in
                e.line("var v = Self()")
                for f in fields {
                    var conds: [String] = []
                    if let c = e.condition(e.presence(f)) { conds.append(c) }
                    if f.tag != nil { conds.append("rng.chance(2)") }
                    let assign = "v.\(Emitter.propertyName(f.name)) = \(try e.arbitraryValue(f))"
                    if conds.isEmpty { e.line(assign) } else { e.line("if \(conds.joined(separator: " && ")) { \(assign) }") }
                }
                if !e.flexibleSet.isEmpty {
                    let flexCond = e.condition(e.flexibleSet) ?? "true"
                    e.line("if \(flexCond) && rng.chance(6) { v.unknownTaggedFields = rng.unknownTaggedFields() }")
                }
                e.line("return v")
            }
        }
    }

    func arbitraryValue(_ f: Field) throws -> String {
        let base = try arbitraryExpression(f.type)
        let nullable = nullableSet(f)
        if nullable.isEmpty { return base }
        let c = condition(nullable) ?? "true"
        return "(\(c)) && rng.chance(4) ? nil : \(base)"
    }

    func arbitraryExpression(_ t: FieldType) throws -> String {
        switch t {
        case .primitive(let p):
            switch p {
            case "records": return "rng.bytes()"
            default: return "\(swiftElementType(t)).arbitrary(&rng)"
            }
        case .structure(let n):
            return "\(spec.name).\(n).arbitrary(version: version, rng: &rng, depth: depth + 1)"
        case .array(let elem):
            let et = swiftElementType(elem)
            let qualified: String
            if case .structure(let n) = elem { qualified = "\(spec.name).\(n)" } else { qualified = et }
            return "rng.array(depth: depth) { (rng: inout SeededRandom) -> \(qualified) in \(try arbitraryExpression(elem)) }"
        }
    }
}
