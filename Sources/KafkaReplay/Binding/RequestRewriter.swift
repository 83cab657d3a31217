import KafkaProtocol
import NIOCore

/// Puts the values a replay target assigned into a recorded request (see `BindingTable`,
/// `WirePatcher`).
public enum RequestRewriter {
    public struct Result: Sendable {
        public var payload: ByteBuffer
        public var edits: [ValueEdit]
    }

    /// The request with every bound value substituted; unchanged (and not decoded) when the table
    /// has no substitutions. A request the codec cannot decode goes out as recorded.
    public static func rewrite(_ payload: ByteBuffer, bindings: BindingTable) throws(WirePatcher.Failure) -> Result {
        guard bindings.hasSubstitutions, let decoded = try? KafkaFrameCodec.decodeRequest(payload) else {
            return Result(payload: payload, edits: [])
        }
        let tree = decoded.body.kafkaValue(version: decoded.apiVersion)
        let edits = bindings.edits(for: tree)
        guard !edits.isEmpty else { return Result(payload: payload, edits: []) }
        var header = KafkaWriter()
        decoded.header.encode(to: &header, version: decoded.headerVersion)
        let patched = try WirePatcher.apply(
            edits, to: payload, bodyStart: header.buffer.readableBytes, tree: tree,
            render: { candidate in
                guard let d = try? KafkaFrameCodec.decodeRequest(candidate) else { return nil }
                return d.body.kafkaValue(version: d.apiVersion)
            })
        return Result(payload: patched, edits: edits)
    }
}
