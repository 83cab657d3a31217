import NIOCore

extension KafkaFrameCodec {
    /// The versions of `apiKey` other than `version` that `payload` decodes exactly under, as a
    /// response, in ascending order. A response that fails at the version its request asked for but
    /// decodes under another was written in that version's layout (a broker bug: SeaweedFS's gateway
    /// answers Fetch v4 in v5's layout). Empty for an API key this codec does not know.
    public static func responseVersionsThatDecode(_ payload: ByteBuffer, apiKey: Int16, besides version: Int16) -> [Int16] {
        guard let api = KafkaAPIs.descriptor(apiKey: apiKey) else { return [] }
        return api.versions.filter { v in
            v != version && (try? decodeResponse(payload, apiKey: apiKey, apiVersion: v)) != nil
        }
    }

    /// Versions as runs, for people: `v5`, `v5-v7`, `v2, v5-v6`.
    public static func describeVersions(_ versions: [Int16]) -> String {
        var runs: [(Int16, Int16)] = []
        for v in versions.sorted() {
            if let last = runs.last, last.1 + 1 == v { runs[runs.count - 1].1 = v } else { runs.append((v, v)) }
        }
        return runs.map { $0.0 == $0.1 ? "v\($0.0)" : "v\($0.0)-v\($0.1)" }.joined(separator: ", ")
    }
}
