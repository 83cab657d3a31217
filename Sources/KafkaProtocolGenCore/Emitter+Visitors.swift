import Foundation

/// Visitor conformances over response schemas, one mechanism for all of them: a struct "carries" a
/// kind of value when it holds one directly or contains (through arrays, optionals, nesting) a struct
/// that does; each carrier gets a mutating visit method that handles its own values and recurses.
///
/// - `KafkaEndpointCarrier` (`rewriteEndpoints`): structs with `Host`, `Port` and a node id.
/// - `KafkaErrorCodeCarrier` (`rewriteErrorCodes`): structs with an int16 `ErrorCode`.
extension Emitter {
    struct Visitor {
        var protocolName: String
        var method: String
        var bodyType: String
        /// A statement run first in a struct that holds the value as a whole (nil: none).
        var prologue: (Emitter, [Field]) -> String?
        /// A statement for one field that is itself a value (nil: not one).
        var leaf: (Emitter, Field) -> String?
    }

    static let nodeIdFieldNames = ["NodeId", "BrokerId"]

    func isEndpoint(_ fields: [Field]) -> Bool {
        let present = fields.filter { !presence($0).isEmpty }
        let hasHost = present.contains { $0.name == "Host" && $0.type == .primitive("string") && nullableSet($0).isEmpty }
        let hasPort = present.contains { $0.name == "Port" && $0.type == .primitive("int32") }
        let hasNode = present.contains { Emitter.nodeIdFieldNames.contains($0.name) && $0.type == .primitive("int32") }
        return hasHost && hasPort && hasNode
    }

    var endpointVisitor: Visitor {
        Visitor(
            protocolName: "KafkaEndpointCarrier", method: "rewriteEndpoints", bodyType: "(inout KafkaEndpoint) -> Void",
            prologue: { e, fields in
                guard e.isEndpoint(fields), let host = fields.first(where: { $0.name == "Host" }),
                    let port = fields.first(where: { $0.name == "Port" }),
                    let node = fields.first(where: { Emitter.nodeIdFieldNames.contains($0.name) })
                else { return nil }
                let conds = [host, port, node].compactMap { e.condition(e.presence($0)) }
                let nodeProp = "self." + Emitter.propertyName(node.name)
                let stmt = "var endpoint = KafkaEndpoint(nodeId: \(nodeProp), host: self.host, port: self.port); body(&endpoint); self.host = endpoint.host; self.port = endpoint.port"
                return conds.isEmpty ? stmt : "if \(Set(conds).sorted().joined(separator: " && ")) { \(stmt) }"
            },
            leaf: { _, _ in nil })
    }

    var errorCodeVisitor: Visitor {
        Visitor(
            protocolName: "KafkaErrorCodeCarrier", method: "rewriteErrorCodes", bodyType: "(inout Int16) -> Void",
            prologue: { _, _ in nil },
            leaf: { e, f in
                guard f.name == "ErrorCode", f.type == .primitive("int16"), f.tag == nil else { return nil }
                let stmt = "body(&self.\(Emitter.propertyName(f.name)))"
                return e.condition(e.presence(f)).map { "if \($0) { \(stmt) }" } ?? stmt
            })
    }

    func emitVisitorCarriers(_ v: Visitor) throws {
        guard spec.kind == "response" else { return }
        let defs = try structs()
        var fieldsByName: [String: [Field]] = [:]
        for d in defs { fieldsByName[d.name] = d.fields }
        let top = "\u{0}top"
        fieldsByName[top] = spec.fields
        // Fixed point: which structs carry the value.
        var carriers: Set<String> = []
        var changed = true
        while changed {
            changed = false
            for (name, all) in fieldsByName where !carriers.contains(name) {
                let fields = all.filter { !presence($0).isEmpty }
                let direct = v.prologue(self, fields) != nil || fields.contains { v.leaf(self, $0) != nil }
                let nested = fields.contains { f in f.type.structName.map { carriers.contains($0) } == true }
                if direct || nested {
                    carriers.insert(name)
                    changed = true
                }
            }
        }
        guard carriers.contains(top) else { return }
        emitCarrier(v, typeName: spec.name, fields: spec.fields, carriers: carriers)
        for d in defs where carriers.contains(d.name) {
            emitCarrier(v, typeName: "\(spec.name).\(d.name)", fields: d.fields, carriers: carriers)
        }
    }

    func emitCarrier(_ v: Visitor, typeName: String, fields all: [Field], carriers: Set<String>) {
        let fields = all.filter { !presence($0).isEmpty }
        line()
        block("extension \(typeName): \(v.protocolName)") { e in
            e.block("public mutating func \(v.method)(version: Int16, _ body: \(v.bodyType))") { e in
                if let prologue = v.prologue(e, fields) { e.line(prologue) }
                for f in fields {
                    if let leaf = v.leaf(e, f) {
                        e.line(leaf)
                        continue
                    }
                    guard let sn = f.type.structName, carriers.contains(sn) else { continue }
                    let prop = "self." + Emitter.propertyName(f.name)
                    let optionalDepth = (e.nullableSet(f).isEmpty ? 0 : 1) + (f.tag != nil ? 1 : 0)
                    let isArray: Bool = { if case .array = f.type { return true } else { return false } }()
                    let visit = isArray
                        ? "for i in value.indices { value[i].\(v.method)(version: version, body) }"
                        : "value.\(v.method)(version: version, body)"
                    var stmt: String
                    switch optionalDepth {
                    case 0: stmt = "var value = \(prop); \(visit); \(prop) = value"
                    case 1: stmt = "if var value = \(prop) { \(visit); \(prop) = value }"
                    default: stmt = "if case .some(.some(var value)) = \(prop) { \(visit); \(prop) = value }"
                    }
                    if let cond = e.condition(e.presence(f)) { stmt = "if \(cond) { \(stmt) }" }
                    e.line(stmt)
                }
            }
        }
    }
}
