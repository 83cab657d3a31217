import KafkaCapture
import KafkaProtocol
import NIOCore

/// I17: every broker address the client received points at a KafkaTape proxy listener.
///
/// In a KafkaTape capture the response frame holds the broker's true answer and each rewrite is an
/// event (kind `rewrite`, attributes correlationId/apiKey/apiVersion) whose payload is what the client
/// received. Proxy listeners are the address mappings (proxy host:port) and the listeners connections
/// reached. For every response on a proxy connection that carries endpoints (Metadata,
/// FindCoordinator, DescribeCluster, the leader hints of Produce v10+/Fetch v16+/ShareFetch/
/// ShareAcknowledge, through the generated `KafkaEndpointCarrier`), endpoints that are not proxy
/// listeners need a matching rewrite, and the rewrite's payload must not point anywhere else.
/// Rewrite events may come before or after their exchange, so both sides wait for each other;
/// answers still unmatched at the end are findings. Captures without proxy connections (pcap
/// imports) skip this invariant with a note.
public final class AddressesRewritten: Invariant {
    /// `I17` in reports and `--only`/`--skip`: broker addresses are rewritten to the proxy.
    public let id = InvariantID(17)

    private struct Key: Hashable {
        var connection: UInt64
        var correlationId: Int32
    }
    private struct Rewrite {
        var payload: ByteBuffer?
        var apiKey: Int16?
        var apiVersion: Int16?
    }
    private struct Pending {
        var reference: ExchangeReference
        var apiKey: Int16
        var apiVersion: Int16
        var endpoints: [KafkaEndpoint]
    }

    private var rewrites: [Key: Rewrite] = [:]
    private var pending: [Key: Pending] = [:]
    private var pendingOrder: [Key] = []
    private var sawNonProxy = false
    /// A fresh I17 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Watches the raw capture records for I17 (broker addresses are rewritten to the proxy).
    public func observe(record: CaptureRecord, _ context: CheckContext) -> [Finding] {
        guard case .event(let e) = record, e.kind == .rewrite, let conn = e.connectionId,
            let corr = e[attribute: "correlationId"].flatMap({ Int32($0) })
        else { return [] }
        let key = Key(connection: conn, correlationId: corr)
        let rewrite = Rewrite(
            payload: e.payload, apiKey: e[attribute: "apiKey"].flatMap { Int16($0) },
            apiVersion: e[attribute: "apiVersion"].flatMap { Int16($0) })
        if let p = pending.removeValue(forKey: key) { return evaluate(p, rewrite, context) }
        rewrites[key] = rewrite
        return []
    }

    /// Checks one exchange, in request order, for I17 (broker addresses are rewritten to the proxy).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard Self.mayCarryEndpoints(exchange.apiKey, exchange.apiVersion), let response = exchange.response else { return [] }
        let conn = exchange.exchange.connectionId
        guard let role = context.model.connections[conn]?.role, role == "proxy" else {
            sawNonProxy = true
            return []
        }
        let foreign = Self.endpoints(in: response).filter { !context.model.isProxyEndpoint(host: $0.host, port: $0.port) }
        guard !foreign.isEmpty else { return [] }
        let key = Key(connection: conn, correlationId: exchange.exchange.correlationId)
        let p = Pending(reference: exchange.reference, apiKey: exchange.apiKey, apiVersion: exchange.apiVersion, endpoints: foreign)
        if let r = rewrites.removeValue(forKey: key) { return evaluate(p, r, context) }
        pending[key] = p
        pendingOrder.append(key)
        return []
    }

    /// Reports what only the whole capture shows for I17 (broker addresses are rewritten to the proxy).
    public func finish(_ context: CheckContext) -> [Finding] {
        if !context.model.hasProxyConnections {
            let roles = Set(context.model.connections.values.map(\.role)).sorted()
            let why = roles.contains("pcap") ? "a pcap import has no proxy" : "no connection went through a KafkaTape proxy"
            context.note("I17 skipped: \(why)" + (roles.isEmpty ? "" : " (connection roles: \(roles.joined(separator: ", ")))"))
            return []
        }
        if sawNonProxy { context.note("I17 checked only connections recorded by the proxy (role proxy)") }
        var out: [Finding] = []
        for key in pendingOrder {
            guard let p = pending.removeValue(forKey: key) else { continue }
            let list = Self.describe(p.endpoints)
            out.append(
                Finding(
                    id,
                    "The client received the broker's own address\(p.endpoints.count == 1 ? "" : "es") \(list) in \(p.reference.apiName) v\(p.apiVersion) #\(p.reference.correlationId): the proxy recorded no rewrite, so the client can bypass the proxy.",
                    exchanges: [p.reference], details: ["endpoints": list, "rewrite": "missing"],
                    summary: "The client received the broker's own address\(p.endpoints.count == 1 ? "" : "es") \(list) in \(p.reference.apiName): the proxy recorded no rewrite, so the client can bypass the proxy."))
        }
        return out
    }

    private func evaluate(_ p: Pending, _ r: Rewrite, _ context: CheckContext) -> [Finding] {
        guard let payload = r.payload,
            let decoded = try? KafkaFrameCodec.decodeResponse(
                payload, apiKey: r.apiKey ?? p.apiKey, apiVersion: r.apiVersion ?? p.apiVersion)
        else {
            return [
                Finding(
                    id,
                    "The rewrite of \(p.reference.apiName) #\(p.reference.correlationId) carries no decodable payload, so what the client received is unknown.",
                    exchanges: [p.reference], details: ["rewrite": "undecodable"],
                    summary: "A rewrite of \(p.reference.apiName) carries no decodable payload, so what the client received is unknown.")
            ]
        }
        let still = Self.endpoints(in: decoded).filter { !context.model.isProxyEndpoint(host: $0.host, port: $0.port) }
        guard !still.isEmpty else { return [] }
        let list = Self.describe(still)
        return [
            Finding(
                id,
                "The rewritten \(p.reference.apiName) #\(p.reference.correlationId) the client received still points at \(list), which is not a proxy listener.",
                exchanges: [p.reference], details: ["endpoints": list, "rewrite": "incomplete"],
                summary: "A rewritten \(p.reference.apiName) the client received still points at \(list), which is not a proxy listener.")
        ]
    }

    /// The generated list the proxy's rewriter uses too.
    static func mayCarryEndpoints(_ key: Int16, _ version: Int16) -> Bool {
        KafkaAPIs.responseMayCarryEndpoints(apiKey: key, apiVersion: version)
    }

    /// Real endpoints (node >= 0, a host, a port) in a response, one per node and address.
    static func endpoints(in response: KafkaDecodedResponse) -> [KafkaEndpoint] {
        guard var carrier = response.body as? any KafkaEndpointCarrier else { return [] }
        var out: [KafkaEndpoint] = []
        carrier.rewriteEndpoints(version: response.apiVersion) { e in
            if e.nodeId >= 0 && !e.host.isEmpty && e.port > 0 && !out.contains(e) { out.append(e) }
        }
        return out
    }

    static func describe(_ endpoints: [KafkaEndpoint]) -> String {
        endpoints.map { "\($0.host):\($0.port) (node \($0.nodeId))" }.joined(separator: ", ")
    }
}
