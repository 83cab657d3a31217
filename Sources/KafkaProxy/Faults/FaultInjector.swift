import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore

/// What a fault did to one response.
struct FaultOutcome {
    /// The bytes the client gets.
    var payload: ByteBuffer
    var delayMs = 0
    var closeConnection = false
    /// Hold this response and send it after the next one (reorder-responses).
    var holdForReorder = false
    /// One line per fault applied, for the capture's fault events.
    var notes: [String] = []

    var changed: Bool { !notes.isEmpty }
}

/// State the faults share across connections: topic names by id (from Metadata), partitions whose
/// first record was already swallowed.
final class FaultSharedState: Sendable {
    private let state = NIOLockedValueBox(State())

    struct State {
        var topicNames: [KafkaUUID: String] = [:]
        var swallowed: Set<String> = []
    }

    func learn(topicId: KafkaUUID, name: String) {
        guard topicId != .zero else { return }
        state.withLockedValue { $0.topicNames[topicId] = name }
    }

    func name(for id: KafkaUUID) -> String? { state.withLockedValue { $0.topicNames[id] } }

    /// True the first time a partition is claimed.
    func claimSwallow(_ key: String) -> Bool { state.withLockedValue { $0.swallowed.insert(key).inserted } }
}

/// Applies `--fault` specs to one connection's responses. Lives on the connection's event loop.
final class FaultInjector {
    let faults: [ProxyFault]
    let shared: FaultSharedState
    var random: FaultRandom
    /// Fetch offsets asked for, by correlation id and partition key.
    var fetchOffsets: [Int32: [String: Int64]] = [:]
    /// Stale-fetch cache: the last non-empty partition data per partition key, with the offset it answered.
    var staleCache: [String: (offset: Int64, data: FetchResponse.PartitionData)] = [:]
    var responses = 0
    var firstCorrelationId: Int32?
    var reordered = false

    init(faults: [ProxyFault], shared: FaultSharedState, seed: UInt64, connectionId: UInt64) {
        self.faults = faults
        self.shared = shared
        random = FaultRandom(seed: seed, connectionId: connectionId)
    }

    var rewritesAddresses: Bool { !faults.contains(.noRewrite) }

    private var touchesFetch: Bool {
        faults.contains {
            switch $0 {
            case .staleFetch, .swallowFirstRecord, .emptyValues, .hwmMinus: return true
            default: return false
            }
        }
    }

    /// Remembers what each Fetch asked for.
    func observeRequest(_ frame: ByteBuffer, _ prefix: KafkaRequestPrefix) {
        guard prefix.apiKey == 1, touchesFetch, let decoded = try? KafkaFrameCodec.decodeRequest(frame),
            let fetch = decoded.body as? FetchRequest
        else { return }
        var offsets: [String: Int64] = [:]
        for t in fetch.topics {
            let topic = prefix.apiVersion >= 13 ? (shared.name(for: t.topicId) ?? t.topicId.description) : t.topic
            for p in t.partitions { offsets["\(topic)/\(p.partition)"] = p.fetchOffset }
        }
        fetchOffsets[prefix.correlationId] = offsets
    }

    func transform(_ frame: ByteBuffer, apiKey: Int16, apiVersion: Int16, correlationId: Int32) -> FaultOutcome {
        var outcome = FaultOutcome(payload: frame)
        responses += 1
        if responses == 1 { firstCorrelationId = correlationId }
        if apiKey == 3, let md = try? KafkaFrameCodec.decodeResponse(frame, apiKey: 3, apiVersion: apiVersion).body as? MetadataResponse {
            for t in md.topics { if let n = t.name { shared.learn(topicId: t.topicId, name: n) } }
        }
        let offsets = fetchOffsets.removeValue(forKey: correlationId) ?? [:]
        for fault in faults {
            switch fault {
            case .delay(let k, let ms) where k == apiKey:
                outcome.delayMs = max(outcome.delayMs, ms)
                outcome.notes.append("\(fault): held \(ms) ms")
            case .dropConnection(let k, let rate) where k == apiKey:
                if random.chance(rate) {
                    outcome.closeConnection = true
                    outcome.notes.append("\(fault): closed the connection instead of answering")
                }
            case .error(let k, let code, let rate) where k == apiKey:
                if random.chance(rate) { setErrorCodes(&outcome, code: code, apiKey: apiKey, apiVersion: apiVersion, fault: fault) }
            case .duplicateCorrelationId:
                if responses == 2, let first = firstCorrelationId, first != correlationId {
                    outcome.payload.setInteger(first, at: outcome.payload.readerIndex)
                    outcome.notes.append("\(fault): response \(correlationId) sent with correlation id \(first)")
                }
            case .reorderResponses:
                if !reordered {
                    outcome.holdForReorder = true
                }
            default:
                break
            }
        }
        if apiKey == 1, touchesFetch {
            transformFetch(&outcome, apiVersion: apiVersion, offsets: offsets)
        }
        return outcome
    }

    private func setErrorCodes(_ outcome: inout FaultOutcome, code: Int16, apiKey: Int16, apiVersion: Int16, fault: ProxyFault) {
        guard let decoded = try? KafkaFrameCodec.decodeResponse(outcome.payload, apiKey: apiKey, apiVersion: apiVersion),
            var carrier = decoded.body as? any KafkaErrorCodeCarrier
        else { return }
        var count = 0
        carrier.rewriteErrorCodes(version: apiVersion) { c in
            c = code
            count += 1
        }
        guard count > 0, let body = carrier as? any KafkaMessage else { return }
        outcome.payload = KafkaFrameCodec.encodeResponse(header: decoded.header, body: body, apiKey: apiKey, apiVersion: apiVersion)
        outcome.notes.append("\(fault): \(count) error code(s) set to \(code) \(KafkaErrorCode.name(code))")
    }

    private func transformFetch(_ outcome: inout FaultOutcome, apiVersion: Int16, offsets: [String: Int64]) {
        guard let decoded = try? KafkaFrameCodec.decodeResponse(outcome.payload, apiKey: 1, apiVersion: apiVersion),
            var fetch = decoded.body as? FetchResponse
        else { return }
        var notes: [String] = []
        var delay = 0
        for ti in fetch.responses.indices {
            let t = fetch.responses[ti]
            let topic = apiVersion >= 13 ? (shared.name(for: t.topicId) ?? t.topicId.description) : t.topic
            for pi in fetch.responses[ti].partitions.indices {
                var p = fetch.responses[ti].partitions[pi]
                let key = "\(topic)/\(p.partitionIndex)"
                let asked = offsets[key]
                for fault in faults {
                    switch fault {
                    case .staleFetch:
                        let hasRecords = (p.records?.readableBytes ?? 0) > 0
                        if let cached = staleCache[key], let asked, cached.offset != asked {
                            p = cached.data
                            p.partitionIndex = fetch.responses[ti].partitions[pi].partitionIndex
                            notes.append("stale-fetch: \(key) fetched at \(asked) answered with the data cached for offset \(cached.offset)")
                        } else if hasRecords, let asked {
                            staleCache[key] = (asked, p)
                        }
                    case .swallowFirstRecord(let ms):
                        if let records = p.records, records.readableBytes > 0,
                            var set = try? KafkaRecords.decode(records, verifyCRC: false),
                            let first = set.batches.first?.records.first, first.offset == 0, shared.claimSwallow(key)
                        {
                            var batch = set.batches[0]
                            batch.records.removeFirst()
                            if batch.records.isEmpty {
                                set.batches.removeFirst()
                            } else {
                                batch = KafkaRecordBatch(
                                    baseOffset: first.offset + 1, partitionLeaderEpoch: batch.partitionLeaderEpoch,
                                    attributes: batch.attributes, producerId: batch.producerId,
                                    producerEpoch: batch.producerEpoch,
                                    baseSequence: batch.baseSequence < 0 ? -1 : batch.baseSequence + 1, records: batch.records)
                                set.batches[0] = batch
                            }
                            if let encoded = try? Self.encode(set) {
                                p.records = encoded
                                delay = max(delay, ms)
                                notes.append("swallow-first-record: dropped \(key) offset \(first.offset) and held the response \(ms) ms")
                            }
                        }
                    case .emptyValues(let target) where target == topic:
                        if let records = p.records, records.readableBytes > 0,
                            var set = try? KafkaRecords.decode(records, verifyCRC: false)
                        {
                            var emptied = 0
                            for bi in set.batches.indices {
                                for ri in set.batches[bi].records.indices where set.batches[bi].records[ri].value != nil {
                                    set.batches[bi].records[ri].value = ByteBuffer()
                                    emptied += 1
                                }
                            }
                            if emptied > 0, let encoded = try? Self.encode(set) {
                                p.records = encoded
                                notes.append("empty-values: \(emptied) value(s) of \(key) emptied")
                            }
                        }
                    case .hwmMinus(let n):
                        if p.highWatermark > 0 {
                            let lowered = max(0, p.highWatermark - n)
                            notes.append("hwm-minus: \(key) high watermark \(p.highWatermark) reported as \(lowered)")
                            p.highWatermark = lowered
                        }
                    default:
                        break
                    }
                }
                fetch.responses[ti].partitions[pi] = p
            }
        }
        guard !notes.isEmpty else { return }
        outcome.payload = KafkaFrameCodec.encodeResponse(header: decoded.header, body: fetch, apiKey: 1, apiVersion: apiVersion)
        outcome.delayMs = max(outcome.delayMs, delay)
        outcome.notes += notes
    }

    /// Re-encodes batches (v2) with their codecs; legacy message sets are re-encoded as v2.
    static func encode(_ set: KafkaRecordSet) throws -> ByteBuffer {
        var out = ByteBuffer()
        for batch in set.batches {
            var b = try KafkaRecords.encodeBatch(batch, compression: batch.compression)
            out.writeBuffer(&b)
        }
        return out
    }
}
