import KafkaProtocol
import NIOCore

/// I14: every response (and request) decodes exactly, with no bytes left over, under its (key,
/// version) schema and header version, and encodes back to the same bytes.
///
/// The codec's whole-frame decoders already demand that every byte is consumed. A frame that decodes
/// is then re-encoded (unknown tagged fields are kept, so Kafka's own serializer output comes back
/// byte for byte): a difference means bytes the schema reads but does not pin down, such as a
/// non-minimal varint length or tagged fields out of order, which another parser may read differently.
/// The finding names the first differing offset and shows the bytes around it. Not findings:
/// redacted or truncated frames (they are not the bytes that were sent), API keys or versions newer
/// than this codec knows (a limitation of the tool, noted), and ApiVersions answers in v0 format to
/// a version the broker does not support (KIP-511: that is how brokers answer).
///
/// A response that does not decode is tried under every other version of its API the codec knows:
/// the versions it decodes exactly under are named in the finding. A broker that writes another
/// version's layout (SeaweedFS's gateway answers Fetch v4 with v5's LogStartOffset, so sarama reads
/// an empty record set) shows up as "it decodes exactly as v5".
public final class FramesDecodeExactly: Invariant {
    /// `I14` in reports and `--only`/`--skip`: every frame decodes exactly.
    public let id = InvariantID(14)
    /// Frames of one API key and version probed under the other versions; after that the first
    /// answer stands for the rest (a layout bug is the same in every frame), so a capture of
    /// undecodable frames costs no more than this many probes per version.
    static let probesPerVersion = 256
    private var probes: [Int32: (count: Int, versions: [Int16])] = [:]
    /// A fresh I14 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I14 (every frame decodes exactly).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        var out: [Finding] = []
        let e = exchange.exchange
        if let error = exchange.requestError, e.request.isComplete {
            if let f = finding(error, side: "request", exchange, context) { out.append(f) }
        } else if !e.request.isComplete {
            context.note("redacted or truncated frames were not decoded")
        } else if let r = exchange.request {
            let again = KafkaFrameCodec.encodeRequest(header: r.header, body: r.body)
            if let f = reencoding(e.request.payload, again, side: "request", exchange) { out.append(f) }
        }
        if let error = exchange.responseError, let r = e.response {
            if r.isComplete {
                if let f = finding(error, side: "response", exchange, context) { out.append(f) }
            } else {
                context.note("redacted or truncated frames were not decoded")
            }
        } else if let frame = e.response, frame.isComplete, let r = exchange.response {
            let again = KafkaFrameCodec.encodeResponse(header: r.header, body: r.body, apiKey: r.api.apiKey, apiVersion: r.apiVersion)
            if let f = reencoding(frame.payload, again, side: "response", exchange) { out.append(f) }
        }
        return out
    }

    /// A finding when `again` (the decoded frame encoded anew) differs from the captured bytes.
    private func reencoding(_ original: ByteBuffer, _ again: ByteBuffer, side: String, _ exchange: ExchangeContext) -> Finding? {
        guard original.readableBytesView != again.readableBytesView else { return nil }
        let a = original.readableBytesView
        let b = again.readableBytesView
        var offset = 0
        for (x, y) in zip(a, b) {
            if x != y { break }
            offset += 1
        }
        func hex(_ view: ByteBufferView) -> String {
            let from = max(0, offset - 4)
            let slice = view.dropFirst(from).prefix(12)
            return slice.map { b in String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16) }
                .joined(separator: " ")
        }
        return Finding(
            id,
            "The \(side) of \(exchange.reference.apiName) v\(exchange.apiVersion) decodes but does not encode back to the same bytes: first difference at offset \(offset) (\(a.count) bytes captured, \(b.count) re-encoded).",
            exchanges: [exchange.reference],
            details: [
                "side": side, "offset": String(offset), "captured": hex(a), "reencoded": hex(b),
                "apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion),
            ],
            summary: "The \(side) of \(exchange.reference.apiName) v\(exchange.apiVersion) decodes but does not encode back to the same bytes.")
    }

    private func finding(_ error: KafkaDecodingError, side: String, _ exchange: ExchangeContext, _ context: CheckContext)
        -> Finding?
    {
        switch error.kind {
        case .unknownApiKey, .unsupportedVersion:
            context.note("frames of API keys or versions this build's codec does not know were not decoded (\(error.kindDescription))")
            return nil
        default:
            break
        }
        var details = [
            "side": side, "error": error.description, "apiKey": String(exchange.apiKey), "apiVersion": String(exchange.apiVersion),
        ]
        var hint = ""
        if side == "response", let payload = exchange.exchange.response?.payload {
            let versions = versionsThatDecode(payload, apiKey: exchange.apiKey, besides: exchange.apiVersion)
            if !versions.isEmpty {
                let list = KafkaFrameCodec.describeVersions(versions)
                details["decodesAs"] = versions.map(String.init).joined(separator: ",")
                hint = "; it decodes exactly as \(list): the answer has another version's layout than the one asked for"
            }
        }
        return Finding(
            id,
            "The \(side) of \(exchange.reference.apiName) v\(exchange.apiVersion) #\(exchange.exchange.correlationId) does not decode: \(error.description)\(hint).",
            exchanges: [exchange.reference],
            details: details,
            summary: "The \(side) of \(exchange.reference.apiName) v\(exchange.apiVersion) does not decode (\(error.kindDescription))\(hint).")
    }

    /// The other versions of `apiKey` that `payload` decodes exactly under, as a response (at most
    /// `probesPerVersion` frames probed per API version; the first answer stands for the rest).
    private func versionsThatDecode(_ payload: ByteBuffer, apiKey: Int16, besides version: Int16) -> [Int16] {
        let key = Int32(apiKey) << 16 | Int32(UInt16(bitPattern: version))
        let previous = probes[key]
        if let p = previous, p.count >= Self.probesPerVersion { return p.versions }
        let versions = KafkaFrameCodec.responseVersionsThatDecode(payload, apiKey: apiKey, besides: version)
        probes[key] = ((previous?.count ?? 0) + 1, previous?.versions ?? versions)
        return versions
    }
}
