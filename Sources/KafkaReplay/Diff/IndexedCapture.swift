import KafkaCapture
import KafkaProtocol

/// A capture on disk, indexed for comparison: one streaming pass records where every exchange's
/// frames are (`CaptureExchangeIndex`) and which topic ids name which topics; `CaptureDiff` then reads
/// the frames of each aligned pair back by position. Memory is the index (about 36 bytes an
/// exchange) and one read window, where `RecordedSession` holds every frame.
public final class IndexedCapture {
    /// The path it was opened with.
    public let path: String
    /// Where every exchange is.
    public let index: CaptureExchangeIndex
    /// Topic names by id, from every response that carries both.
    public let topicNames: [KafkaUUID: String]
    private let fetcher: CaptureRecordFetcher

    /// Indexes the capture at `path` (all segments). A torn tail and corrupt spans are warnings, as
    /// for `RecordedSession.read`.
    public init(path: String) throws(CaptureError) {
        var names: [KafkaUUID: String] = [:]
        let index = try CaptureExchangeIndex.build(path: path) { apiKey, apiVersion, payload in
            guard let decoded = try? KafkaFrameCodec.decodeResponse(payload, apiKey: apiKey, apiVersion: apiVersion) else { return }
            MessageNormalizer.collectTopicNames(decoded.body.kafkaValue(version: decoded.apiVersion), into: &names)
        }
        self.path = path
        self.index = index
        self.topicNames = names
        self.fetcher = index.fetcher()
    }

    /// Problems found while reading (torn tail, corrupt spans, unmatched responses), one line each.
    public var warnings: [String] { index.warnings }

    /// Damaged spans skipped in the middle of the capture.
    public var corruptSpanCount: Int { index.corruptSpanCount }
}

extension IndexedCapture: DiffInput {
    var diffConnections: [DiffConnection] {
        index.connections.map { c in
            DiffConnection(id: c.id, nodeId: c.nodeId, nodeDescription: c.nodeDescription, keys: c.entries.map(\.apiKeyAndVersion))
        }
    }

    func exchange(connection: Int, index position: Int) throws(CaptureError) -> Exchange {
        try index.exchange(connection: connection, index: position, fetcher: fetcher)
    }
}
