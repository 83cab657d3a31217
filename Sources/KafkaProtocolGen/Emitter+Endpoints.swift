import Foundation

/// Emits `KafkaEndpointCarrier` conformances: every response struct with Host, Port and a node id is
/// an endpoint; every struct that contains one (directly or through arrays, optionals, nesting)
/// forwards the visit. One mechanism for Metadata, FindCoordinator, DescribeCluster, NodeEndpoints...
extension Emitter {
    static let nodeIdFieldNames = ["NodeId", "BrokerId"]

    func isEndpoint(_ fields: [Field]) -> Bool {
        let present = fields.filter { !presence($0).isEmpty }
        let hasHost = present.contains { $0.name == "Host" && $0.type == .primitive("string") && nullableSet($0).isEmpty }
        let hasPort = present.contains { $0.name == "Port" && $0.type == .primitive("int32") }
        let hasNode = present.contains { Emitter.nodeIdFieldNames.contains($0.name) && $0.type == .primitive("int32") }
        return hasHost && hasPort && hasNode
    }

    func emitEndpointCarriers() throws {
        guard spec.kind == "response" else { return }
        let defs = try structs()
        var fieldsByName: [String: [Field]] = [:]
        for d in defs { fieldsByName[d.name] = d.fields }
        // Fixed point: which structs carry endpoints.
        var carriers: Set<String> = []
        let top = "\u{0}top"
        fieldsByName[top] = spec.fields
        var changed = true
        while changed {
            changed = false
            for (name, fields) in fieldsByName where !carriers.contains(name) {
                let direct = isEndpoint(fields)
                let nested = fields.contains { f in
                    !presence(f).isEmpty && f.type.structName.map { carriers.contains($0) } == true
                }
                if direct || nested {
                    carriers.insert(name)
                    changed = true
                }
            }
        }
        guard carriers.contains(top) else { return }
        emitCarrier(typeName: spec.name, fields: spec.fields, carriers: carriers)
        for d in defs where carriers.contains(d.name) {
            emitCarrier(typeName: "\(spec.name).\(d.name)", fields: d.fields, carriers: carriers)
        }
    }

    func emitCarrier(typeName: String, fields all: [Field], carriers: Set<String>) {
        let fields = all.filter { !presence($0).isEmpty }
        line()
        block("extension \(typeName): KafkaEndpointCarrier") { e in
            e.block("public mutating func rewriteEndpoints(version: Int16, _ body: (inout KafkaEndpoint) -> Void)") { e in
                if e.isEndpoint(fields) {
                    let host = fields.first { $0.name == "Host" }
                    let port = fields.first { $0.name == "Port" }
                    let node = fields.first { Emitter.nodeIdFieldNames.contains($0.name) }
                    if let host, let port, let node {
                        let conds = [host, port, node].compactMap { e.condition(e.presence($0)) }
                        let nodeProp = "self." + Emitter.propertyName(node.name)
                        let stmt = "var endpoint = KafkaEndpoint(nodeId: \(nodeProp), host: self.host, port: self.port); body(&endpoint); self.host = endpoint.host; self.port = endpoint.port"
                        if conds.isEmpty { e.line(stmt) } else { e.line("if \(Set(conds).sorted().joined(separator: " && ")) { \(stmt) }") }
                    }
                }
                for f in fields {
                    guard let sn = f.type.structName, carriers.contains(sn) else { continue }
                    let prop = "self." + Emitter.propertyName(f.name)
                    let optionalDepth = (e.nullableSet(f).isEmpty ? 0 : 1) + (f.tag != nil ? 1 : 0)
                    let isArray: Bool = { if case .array = f.type { return true } else { return false } }()
                    let visit = isArray
                        ? "for i in value.indices { value[i].rewriteEndpoints(version: version, body) }"
                        : "value.rewriteEndpoints(version: version, body)"
                    let cond = e.condition(e.presence(f))
                    var stmt: String
                    switch optionalDepth {
                    case 0: stmt = "var value = \(prop); \(visit); \(prop) = value"
                    case 1: stmt = "if var value = \(prop) { \(visit); \(prop) = value }"
                    default: stmt = "if case .some(.some(var value)) = \(prop) { \(visit); \(prop) = value }"
                    }
                    if let cond { stmt = "if \(cond) { \(stmt) }" }
                    e.line(stmt)
                }
            }
        }
    }
}

/// Emits `KafkaErrorCodeCarrier`: every response struct with an int16 `ErrorCode`, and every struct
/// containing one, visits them in schema order.
extension Emitter {
    func hasErrorCode(_ fields: [Field]) -> Bool {
        fields.contains { !presence($0).isEmpty && $0.name == "ErrorCode" && $0.type == .primitive("int16") && $0.tag == nil }
    }

    func emitErrorCodeCarriers() throws {
        guard spec.kind == "response" else { return }
        let defs = try structs()
        var fieldsByName: [String: [Field]] = [:]
        for d in defs { fieldsByName[d.name] = d.fields }
        var carriers: Set<String> = []
        let top = "\u{0}top"
        fieldsByName[top] = spec.fields
        var changed = true
        while changed {
            changed = false
            for (name, fields) in fieldsByName where !carriers.contains(name) {
                let nested = fields.contains { f in
                    !presence(f).isEmpty && f.type.structName.map { carriers.contains($0) } == true
                }
                if hasErrorCode(fields) || nested {
                    carriers.insert(name)
                    changed = true
                }
            }
        }
        guard carriers.contains(top) else { return }
        emitErrorCodeCarrier(typeName: spec.name, fields: spec.fields, carriers: carriers)
        for d in defs where carriers.contains(d.name) {
            emitErrorCodeCarrier(typeName: "\(spec.name).\(d.name)", fields: d.fields, carriers: carriers)
        }
    }

    func emitErrorCodeCarrier(typeName: String, fields all: [Field], carriers: Set<String>) {
        let fields = all.filter { !presence($0).isEmpty }
        line()
        block("extension \(typeName): KafkaErrorCodeCarrier") { e in
            e.block("public mutating func rewriteErrorCodes(version: Int16, _ body: (inout Int16) -> Void)") { e in
                for f in fields {
                    let prop = "self." + Emitter.propertyName(f.name)
                    let cond = e.condition(e.presence(f))
                    if f.name == "ErrorCode" && f.type == .primitive("int16") && f.tag == nil {
                        let stmt = "body(&\(prop))"
                        e.line(cond.map { "if \($0) { \(stmt) }" } ?? stmt)
                        continue
                    }
                    guard let sn = f.type.structName, carriers.contains(sn) else { continue }
                    let optionalDepth = (e.nullableSet(f).isEmpty ? 0 : 1) + (f.tag != nil ? 1 : 0)
                    let isArray: Bool = { if case .array = f.type { return true } else { return false } }()
                    let visit = isArray
                        ? "for i in value.indices { value[i].rewriteErrorCodes(version: version, body) }"
                        : "value.rewriteErrorCodes(version: version, body)"
                    var stmt: String
                    switch optionalDepth {
                    case 0: stmt = "var value = \(prop); \(visit); \(prop) = value"
                    case 1: stmt = "if var value = \(prop) { \(visit); \(prop) = value }"
                    default: stmt = "if case .some(.some(var value)) = \(prop) { \(visit); \(prop) = value }"
                    }
                    if let cond { stmt = "if \(cond) { \(stmt) }" }
                    e.line(stmt)
                }
            }
        }
    }
}
