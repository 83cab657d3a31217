import KafkaCapture
import KafkaProtocol
import NIOCore

/// What several invariants need to know about the capture as a whole, built while it streams past:
/// connections and proxy listeners, topic names for topic ids, partition and replica counts from
/// Metadata, the versions each broker advertised, fetch sessions, and a digest of every record
/// produced or fetched, by (topic, partition, offset).
public final class CaptureModel {
    /// A connection, from its connection-opened and connection-closed records.
    public struct Connection: Sendable {
        /// Who made the connection: `proxy`, `replay`, ...
        public var role: String
        /// The proxy listener the client connected to.
        public var listenerAddress: String
        /// The broker address the proxy connected to.
        public var upstreamAddress: String
        /// The broker node the listener stands for (-1: bootstrap).
        public var nodeId: Int32
        /// Who closed the connection, when the capture recorded it.
        public var closedBy: ConnectionCloser?
    }

    /// Every connection the capture opened, by id.
    public private(set) var connections: [UInt64: Connection] = [:]
    /// `host:port` of every proxy listener: address mappings and the listeners connections reached.
    public private(set) var proxyEndpoints: Set<String> = []
    /// Ports of listeners bound to a wildcard address (any host reaching that port is the proxy).
    public private(set) var wildcardProxyPorts: Set<Int32> = []
    /// Topic names by topic id, from Metadata (v10+) and CreateTopics (v7) responses.
    public private(set) var topicNames: [KafkaUUID: String] = [:]
    /// Partition counts by topic name, from the latest Metadata answer naming the topic.
    public private(set) var partitionCounts: [String: Int] = [:]
    /// Replica counts by partition, from Metadata.
    public private(set) var replicaCounts: [TopicPartition: Int] = [:]
    private var advertisedByConnection: [UInt64: [Int16: ClosedRange<Int16>]] = [:]
    private var advertisedByUpstream: [String: [Int16: ClosedRange<Int16>]] = [:]
    private var fetchSessions: [UInt64: (id: Int32, positions: [TopicPartition: Int64])] = [:]
    private var store = RecordStore()
    private var references: [ExchangeReference] = []
    private var referenceResponseTimes: [UInt64] = []

    /// An empty model; the engine feeds it every record and exchange.
    public init() {}

    // MARK: - Records

    /// Takes note of connection lifecycle and address-mapping records.
    public func observe(record: CaptureRecord) {
        switch record {
        case .connectionOpened(let o):
            connections[o.connectionId] = Connection(
                role: o.role, listenerAddress: o.listenerAddress, upstreamAddress: o.upstreamAddress, nodeId: o.nodeId,
                closedBy: nil)
            if o.role == "proxy" { addListener(o.listenerAddress) }
        case .addressMapping(let m):
            proxyEndpoints.insert(Self.endpoint(m.proxyHost, m.proxyPort))
        case .connectionClosed(let c):
            connections[c.connectionId]?.closedBy = c.closedBy
        default:
            break
        }
    }

    private func addListener(_ address: String) {
        guard let (host, port) = Self.split(address) else { return }
        if ["0.0.0.0", "::", "*", ""].contains(host) {
            wildcardProxyPorts.insert(port)
        } else {
            proxyEndpoints.insert(Self.endpoint(host, port))
        }
    }

    /// Whether `host:port` is a proxy listener of this capture.
    public func isProxyEndpoint(host: String, port: Int32) -> Bool {
        wildcardProxyPorts.contains(port) || proxyEndpoints.contains(Self.endpoint(host, port))
    }

    /// Whether any connection went through a KafkaTape proxy (role `proxy`).
    public var hasProxyConnections: Bool { connections.values.contains { $0.role == "proxy" } }

    static func endpoint(_ host: String, _ port: Int32) -> String {
        var h = host
        if h.hasPrefix("[") && h.hasSuffix("]") { h = String(h.dropFirst().dropLast()) }
        return "\(h.lowercased()):\(port)"
    }

    /// `host:port` or `[v6]:port` split in two.
    static func split(_ address: String) -> (String, Int32)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int32(address[address.index(after: colon)...]) else {
            return nil
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    // MARK: - Exchanges

    /// Learns from one exchange (before the invariants see it) and fills in its Produce/Fetch views
    /// and record comparisons.
    public func ingest(_ ctx: ExchangeContext) {
        switch ctx.apiKey {
        case 0: ingestProduce(ctx)
        case 1: ingestFetch(ctx)
        case 3: ingestMetadata(ctx)
        case 18: ingestApiVersions(ctx)
        case 19:
            if let r = ctx.responseBody(CreateTopicsResponse.self), ctx.apiVersion >= 7 {
                for t in r.topics where t.errorCode == 0 && t.topicId != .zero { topicNames[t.topicId] = t.name }
            }
        default: break
        }
    }

    /// The topic's name, or `id:<uuid>` when no Metadata answer named it.
    public func topicName(id: KafkaUUID) -> String {
        topicNames[id] ?? "id:\(id)"
    }

    /// The versions the broker behind `connection` advertised: its own ApiVersions answer, else the
    /// latest one from another connection to the same upstream address.
    public func advertisedVersions(connection: UInt64) -> [Int16: ClosedRange<Int16>]? {
        if let own = advertisedByConnection[connection] { return own }
        if let upstream = connections[connection]?.upstreamAddress { return advertisedByUpstream[upstream] }
        return nil
    }

    /// The entry at an offset of a partition, when the capture saw it produced or fetched.
    public func entry(_ tp: TopicPartition, _ offset: Int64) -> OffsetEntry? {
        store.partitions[tp]?[offset]
    }

    /// Every offset of a partition in [from, to) the capture saw produced or fetched, in order.
    public func entries(_ tp: TopicPartition, from: Int64 = .min, to: Int64 = .max) -> [(offset: Int64, entry: OffsetEntry)] {
        store.partitions[tp]?.entries(from: from, to: to) ?? []
    }

    /// The first offset in [from, to) whose entry satisfies `predicate`.
    public func firstEntry(_ tp: TopicPartition, from: Int64, to: Int64, where predicate: (OffsetEntry) -> Bool)
        -> (offset: Int64, entry: OffsetEntry)?
    {
        store.partitions[tp]?.first(from: from, to: to, where: predicate)
    }

    /// Partitions with at least one known offset.
    public var knownPartitions: [TopicPartition] { Array(store.partitions.keys) }

    /// The Produce that assigned an entry's record, and the first Fetch that returned it.
    public func producedBy(_ entry: OffsetEntry) -> ExchangeReference? { reference(entry.producedRef) }
    /// The first Fetch that returned an entry's record, when one did.
    public func firstFetchedBy(_ entry: OffsetEntry) -> ExchangeReference? { reference(entry.fetchedRef) }

    /// When the capture first knew the entry: the earlier response time of its Produce or first Fetch.
    public func knownSinceNs(_ entry: OffsetEntry) -> UInt64 {
        var t = UInt64.max
        if entry.producedRef >= 0 { t = min(t, referenceResponseTimes[Int(entry.producedRef)]) }
        if entry.fetchedRef >= 0 { t = min(t, referenceResponseTimes[Int(entry.fetchedRef)]) }
        return t
    }

    func reference(_ index: Int32) -> ExchangeReference? {
        index >= 0 && Int(index) < references.count ? references[Int(index)] : nil
    }

    private func store(_ ctx: ExchangeContext) -> Int32 {
        if ctx.storedReference >= 0 { return ctx.storedReference }
        references.append(ctx.reference)
        referenceResponseTimes.append(ctx.responseTimeNs ?? ctx.requestTimeNs)
        ctx.storedReference = Int32(truncatingIfNeeded: references.count - 1)
        return ctx.storedReference
    }

    // MARK: Produce

    private func ingestProduce(_ ctx: ExchangeContext) {
        guard let req = ctx.requestBody(ProduceRequest.self) else { return }
        let v = ctx.apiVersion
        var answers: [TopicPartition: ProduceResponse.PartitionProduceResponse] = [:]
        if let resp = ctx.responseBody(ProduceResponse.self) {
            for t in resp.responses {
                let name = v >= 13 ? topicName(id: t.topicId) : t.name
                for p in t.partitionResponses { answers[TopicPartition(name, p.index)] = p }
            }
        }
        var out: [ProducedPartition] = []
        for t in req.topicData {
            let name = v >= 13 ? topicName(id: t.topicId) : t.name
            for p in t.partitionData {
                let tp = TopicPartition(name, p.index)
                let records = p.records.map { buffer in
                    Result { () throws(KafkaDecodingError) in try KafkaRecords.decode(buffer, verifyCRC: true) }
                }
                var count = 0
                var first: KafkaRecordBatch?
                if case .success(let set)? = records {
                    for b in set.batches where !b.isControl { count += b.records.count }
                    first = set.batches.first
                }
                let answer = answers[tp]
                let produced = ProducedPartition(
                    partition: tp, records: records, recordCount: count, errorCode: answer?.errorCode,
                    baseOffset: answer?.baseOffset, logAppendTimeMs: answer?.logAppendTimeMs ?? -1, acks: req.acks,
                    transactional: req.transactionalId != nil || (first?.isTransactional ?? false),
                    producerId: first?.producerId ?? -1, producerEpoch: first?.producerEpoch ?? -1,
                    baseSequence: first?.baseSequence ?? -1,
                    batchesCRC: { () -> UInt32 in
                        guard case .success(let set)? = records else { return 0 }
                        return set.batches.reduce(0) { ($0 &* 31) ^ $1.crc }
                    }())
                if produced.assigned, case .success(let set)? = records, let base = answer?.baseOffset {
                    storeProduced(set, base: base, logAppendTime: produced.logAppendTimeMs, tp: tp, ctx: ctx)
                }
                out.append(produced)
            }
        }
        ctx.produced = out
    }

    private func storeProduced(_ set: KafkaRecordSet, base: Int64, logAppendTime: Int64, tp: TopicPartition, ctx: ExchangeContext) {
        let ref = store(ctx)
        var offset = base
        var mismatches: [RecordMismatch] = []
        let log = store.log(tp)
        for batch in set.batches where !batch.isControl {
            let batchLogAppend = batch.timestampType == .logAppendTime
            for i in batch.records.indices {
                let ts = logAppendTime >= 0 ? logAppendTime : (batchLogAppend ? batch.maxTimestamp : batch.records[i].timestamp)
                let digest = RecordDigest(batch.records[i], timestamp: ts, logAppendTime: logAppendTime >= 0 || batchLogAppend)
                // The earlier fetch, and whether it differs in content (else only its timestamp may).
                let earlierFetch: (RecordDigest, Int32, Bool)? = log.update(offset) { entry in
                    guard entry.produced == nil else { return nil }
                    entry.produced = digest
                    entry.producedRef = ref
                    guard let fetched = entry.fetched else { return nil }
                    if fetched.contentHash == digest.contentHash {
                        entry.fetched = nil
                        return (fetched, entry.fetchedRef, false)
                    }
                    return (fetched, entry.fetchedRef, true)
                }
                if let (fetched, fetchedRef, differs) = earlierFetch {
                    let m = RecordMismatch(
                        kind: .fetchedVsProduced, partition: tp, offset: offset, expected: digest, expectedBy: ctx.reference,
                        actual: fetched, actualBy: reference(fetchedRef) ?? ctx.reference)
                    if differs {
                        mismatches.append(m)
                    } else if !m.timestampsAgree {
                        ctx.timestampMismatches.append(m)
                    }
                }
                offset = offset.adding(1)
            }
        }
        if !mismatches.isEmpty { ctx.recordMismatches += mismatches }
    }

    // MARK: Fetch

    private func ingestFetch(_ ctx: ExchangeContext) {
        guard let req = ctx.requestBody(FetchRequest.self) else { return }
        let v = ctx.apiVersion
        let resp = ctx.responseBody(FetchResponse.self)
        var named: [TopicPartition: Int64] = [:]
        for t in req.topics {
            let name = v >= 13 ? topicName(id: t.topicId) : t.topic
            for p in t.partitions { named[TopicPartition(name, p.partition)] = p.fetchOffset }
        }
        let conn = ctx.exchange.connectionId
        var positions = named
        if v >= 7 {
            if req.sessionEpoch > 0 {
                var base: [TopicPartition: Int64] = [:]
                if let s = fetchSessions[conn], s.id == req.sessionId { base = s.positions }
                for f in req.forgottenTopicsData {
                    let name = v >= 13 ? topicName(id: f.topicId) : f.topic
                    for p in f.partitions { base[TopicPartition(name, p)] = nil }
                }
                for (tp, o) in named { base[tp] = o }
                positions = base
                if let resp {
                    fetchSessions[conn] = resp.errorCode == 0 ? (req.sessionId, positions) : nil
                }
            } else if req.sessionEpoch == 0 {
                if let resp {
                    fetchSessions[conn] = resp.errorCode == 0 && resp.sessionId != 0 ? (resp.sessionId, positions) : nil
                }
            } else {
                fetchSessions[conn] = nil
            }
        }
        var view = FetchView(
            maxWaitMs: req.maxWaitMs, minBytes: req.minBytes, isolationLevel: v >= 4 ? req.isolationLevel : 0,
            positions: positions, throttleTimeMs: resp?.throttleTimeMs ?? 0, errorCode: resp?.errorCode ?? 0,
            partitions: [])
        guard let resp else {
            ctx.fetch = view
            return
        }
        var before = 0
        for t in resp.responses {
            let name = v >= 13 ? topicName(id: t.topicId) : t.topic
            for p in t.partitions {
                let tp = TopicPartition(name, p.partitionIndex)
                let bytes = p.records?.readableBytes ?? 0
                let records: Result<KafkaRecordSet, KafkaDecodingError>? =
                    bytes == 0
                    ? nil
                    : p.records.map { buffer in
                        Result { () throws(KafkaDecodingError) in try KafkaRecords.decode(buffer, verifyCRC: true) }
                    }
                view.partitions.append(
                    FetchedPartition(
                        partition: tp, fetchOffset: positions[tp], errorCode: p.errorCode, highWatermark: p.highWatermark,
                        lastStableOffset: v >= 4 ? p.lastStableOffset : -1, logStartOffset: v >= 5 ? p.logStartOffset : -1,
                        preferredReadReplica: v >= 11 ? p.preferredReadReplica : -1, hasDivergingEpoch: p.divergingEpoch != nil,
                        records: records, recordBytes: bytes, recordBytesBefore: before))
                before += bytes
                if p.errorCode == 0, case .success(let set)? = records { storeFetched(set, tp: tp, ctx: ctx) }
            }
        }
        ctx.fetch = view
    }

    private func storeFetched(_ set: KafkaRecordSet, tp: TopicPartition, ctx: ExchangeContext) {
        let ref = store(ctx)
        var mismatches: [RecordMismatch] = []
        let log = store.log(tp)
        for batch in set.batches where !batch.isControl {
            let logAppend = batch.magic >= 2 && batch.timestampType == .logAppendTime
            for i in batch.records.indices {
                let offset = batch.records[i].offset
                let digest = RecordDigest(
                    batch.records[i], timestamp: logAppend ? batch.maxTimestamp : batch.records[i].timestamp, logAppendTime: logAppend)
                // What this record contradicts: the produced one, and the one an earlier Fetch returned.
                let (produced, earlier) = log.update(offset) { entry -> ((RecordDigest, Int32)?, (RecordDigest, Int32)?) in
                    let produced = entry.produced.map { ($0, entry.producedRef) }
                    if entry.fetchedRef >= 0 {
                        guard let e = entry.fetched ?? entry.produced else { return (produced, nil) }
                        return (produced, (e, entry.fetchedRef))
                    }
                    entry.fetchedRef = ref
                    if entry.produced?.contentHash != digest.contentHash { entry.fetched = digest }
                    return (produced, nil)
                }
                if let (p, by) = produced {
                    let m = RecordMismatch(
                        kind: .fetchedVsProduced, partition: tp, offset: offset, expected: p,
                        expectedBy: reference(by) ?? ctx.reference, actual: digest, actualBy: ctx.reference)
                    if p.contentHash != digest.contentHash {
                        mismatches.append(m)
                    } else if !m.timestampsAgree {
                        ctx.timestampMismatches.append(m)
                    }
                }
                if let (e, by) = earlier, e.contentHash != digest.contentHash {
                    mismatches.append(
                        RecordMismatch(
                            kind: .fetchedVsFetched, partition: tp, offset: offset, expected: e,
                            expectedBy: reference(by) ?? ctx.reference, actual: digest, actualBy: ctx.reference))
                }
            }
        }
        if !mismatches.isEmpty { ctx.recordMismatches += mismatches }
    }

    // MARK: Metadata and ApiVersions

    private func ingestMetadata(_ ctx: ExchangeContext) {
        guard let r = ctx.responseBody(MetadataResponse.self) else { return }
        for t in r.topics {
            guard let name = t.name ?? (t.topicId != .zero ? topicNames[t.topicId] : nil) else { continue }
            if ctx.apiVersion >= 10 && t.topicId != .zero { topicNames[t.topicId] = name }
            guard t.errorCode == 0, !t.partitions.isEmpty else { continue }
            partitionCounts[name] = t.partitions.count
            for p in t.partitions { replicaCounts[TopicPartition(name, p.partitionIndex)] = p.replicaNodes.count }
        }
    }

    private func ingestApiVersions(_ ctx: ExchangeContext) {
        guard let r = ctx.responseBody(ApiVersionsResponse.self), r.errorCode == 0 else { return }
        var map: [Int16: ClosedRange<Int16>] = [:]
        for k in r.apiKeys where k.minVersion <= k.maxVersion { map[k.apiKey] = k.minVersion...k.maxVersion }
        let conn = ctx.exchange.connectionId
        advertisedByConnection[conn] = map
        if let upstream = connections[conn]?.upstreamAddress { advertisedByUpstream[upstream] = map }
    }
}
