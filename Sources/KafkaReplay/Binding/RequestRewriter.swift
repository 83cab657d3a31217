import KafkaProtocol
import NIOCore

/// Puts the values a replay target assigned into a recorded request (see `BindingTable`): decode,
/// set each field through the generated `KafkaFieldSettable` accessor, re-encode. The codec's
/// decode and encode are byte-exact inverses, so everything the edits do not touch (unknown tagged
/// fields, record batches, the header) goes out as recorded.
public enum RequestRewriter {
    /// A rewritten request.
    public struct Result: Sendable {
        /// The request payload to send (the recorded one when there was nothing to change).
        public var payload: ByteBuffer
        /// What was changed, for the replay's own capture and report.
        public var edits: [ValueEdit]
    }

    /// An edit the message would not take.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        /// The field that would not take the value.
        public var path: FieldPath
        /// Why (a type mismatch, a field absent in this version).
        public var reason: String
        /// One line naming the field and the reason.
        public var description: String { "cannot substitute \(path): \(reason)" }
    }

    /// The request with every bound value substituted; unchanged (and not decoded) when the table
    /// has no substitutions. A request the codec cannot decode goes out as recorded.
    public static func rewrite(_ payload: ByteBuffer, bindings: BindingTable) throws(Failure) -> Result {
        guard bindings.hasSubstitutions, let decoded = try? KafkaFrameCodec.decodeRequest(payload) else {
            return Result(payload: payload, edits: [])
        }
        let tree = decoded.body.kafkaValue(version: decoded.apiVersion)
        let edits = bindings.edits(for: tree)
        guard !edits.isEmpty else { return Result(payload: payload, edits: []) }
        var body = decoded.body
        for edit in edits {
            guard body.setField(edit.path.steps[...], to: edit.new, version: decoded.apiVersion) else {
                throw Failure(path: edit.path, reason: "the \(decoded.api.name) v\(decoded.apiVersion) request has no such field for \(edit.new)")
            }
        }
        return Result(payload: KafkaFrameCodec.encodeRequest(header: decoded.header, body: body), edits: edits)
    }
}

extension FieldPath {
    /// The path as the codec's field accessor takes it (elements by position).
    var steps: [KafkaFieldStep] {
        components.map {
            switch $0 {
            case .field(let name): return .field(name)
            case .element(let index, _): return .index(index)
            }
        }
    }
}
