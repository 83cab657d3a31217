import KafkaCapture
import KafkaCheck
import KafkaProtocol
import NIOCore

/// One record to produce or expect: key, value (nil = null), timestamp, headers.
struct Rec {
    var key: String?
    var value: String?
    var timestamp: Int64 = 1_000
    var headers: [(String, String?)] = []

    init(_ key: String?, _ value: String?, timestamp: Int64 = 1_000, headers: [(String, String?)] = []) {
        self.key = key
        self.value = value
        self.timestamp = timestamp
        self.headers = headers
    }
}

/// Builds captures exchange by exchange: frames are encoded with the real codec, times advance by
/// 1 ms per frame unless told otherwise. Helpers speak in Kafka terms (produce, fetch, list offsets).
final class CaptureBuilder {
    private(set) var records: [CaptureRecord] = []
    private var nowMs: UInt64 = 0
    private var correlation: [UInt64: Int32] = [:]
    let topic: String

    /// A capture with a proxy listener at 127.0.0.1:19092 and a topic `t` of one partition (Metadata
    /// answered on connection 1: one broker, shown at the proxy's address).
    init(topic: String = "t", partitions: Int = 1, replicas: Int = 1, metadata: Bool = true) {
        self.topic = topic
        open(1)
        open(2)
        if metadata {
            exchange(1, 18, 3, ApiVersionsRequest(), Msg.apiVersions())
            exchange(2, 18, 3, ApiVersionsRequest(), Msg.apiVersions())
            exchange(1, 3, 12, MetadataRequest(), Msg.metadata(topics: [(topic, partitions, replicas)]))
        }
    }

    var tp0: TopicPartition { TopicPartition(topic, 0) }

    func ts() -> CaptureTimestamp {
        CaptureTimestamp(monotonicNs: 1_000_000_000 + nowMs * 1_000_000, wallNs: 1_700_000_000_000_000_000 + Int64(nowMs) * 1_000_000)
    }

    func advance(_ ms: UInt64) { nowMs += ms }

    func open(_ conn: UInt64, role: String = "proxy", listener: String = "127.0.0.1:19092", upstream: String = "broker:9092") {
        records.append(
            .connectionOpened(
                ConnectionOpenedRecord(
                    time: ts(), connectionId: conn, clientAddress: "127.0.0.1:\(50000 + conn)", listenerAddress: listener,
                    upstreamAddress: upstream, role: role)))
    }

    func close(_ conn: UInt64, by: ConnectionCloser) {
        advance(1)
        records.append(.connectionClosed(ConnectionClosedRecord(time: ts(), connectionId: conn, closedBy: by, reason: "test")))
    }

    func add(_ record: CaptureRecord) { records.append(record) }

    @discardableResult
    func request(_ conn: UInt64, _ key: Int16, _ version: Int16, _ body: any KafkaMessage, correlationId: Int32? = nil) -> Int32 {
        let corr = correlationId ?? (correlation[conn, default: 0] + 1)
        correlation[conn] = max(correlation[conn, default: 0], corr)
        var h = RequestHeader()
        h.requestApiKey = key
        h.requestApiVersion = version
        h.correlationId = corr
        h.clientId = "test-client"
        advance(1)
        records.append(
            .frame(FrameRecord(time: ts(), connectionId: conn, direction: .request, payload: KafkaFrameCodec.encodeRequest(header: h, body: body))))
        return corr
    }

    func response(_ conn: UInt64, _ corr: Int32, _ key: Int16, _ version: Int16, _ body: any KafkaMessage, after ms: UInt64 = 1) {
        var h = ResponseHeader()
        h.correlationId = corr
        advance(ms)
        records.append(
            .frame(
                FrameRecord(
                    time: ts(), connectionId: conn, direction: .response,
                    payload: KafkaFrameCodec.encodeResponse(header: h, body: body, apiKey: key, apiVersion: version))))
    }

    func rawResponse(_ conn: UInt64, _ payload: ByteBuffer) {
        advance(1)
        records.append(.frame(FrameRecord(time: ts(), connectionId: conn, direction: .response, payload: payload)))
    }

    @discardableResult
    func exchange(
        _ conn: UInt64, _ key: Int16, _ version: Int16, _ req: any KafkaMessage, _ resp: any KafkaMessage, latencyMs: UInt64 = 1
    ) -> Int32 {
        let corr = request(conn, key, version, req)
        response(conn, corr, key, version, resp, after: latencyMs)
        return corr
    }

    // MARK: Kafka-level helpers (partition 0 of `topic` unless told)

    @discardableResult
    func produce(
        _ recs: [Rec], base: Int64, conn: UInt64 = 1, partition: Int32 = 0, acks: Int16 = -1, error: Int16 = 0,
        logAppendTime: Int64 = -1, producerId: Int64 = -1, baseSequence: Int32 = -1, transactional: Bool = false
    ) -> Int32 {
        let batch = Msg.batch(recs, base: 0, producerId: producerId, baseSequence: baseSequence, transactional: transactional)
        let req = Msg.produceRequest(topic, partition, batch, acks: acks, transactional: transactional)
        if acks == 0 { return request(conn, 0, 9, req) }
        return exchange(conn, 0, 9, req, Msg.produceResponse(topic, partition, base: base, error: error, logAppendTime: logAppendTime))
    }

    @discardableResult
    func fetch(
        at offset: Int64, hw: Int64, records: ByteBuffer? = nil, conn: UInt64 = 2, partition: Int32 = 0, error: Int16 = 0,
        logStart: Int64 = 0, lso: Int64? = nil, maxWaitMs: Int32 = 500, minBytes: Int32 = 1, isolation: Int8 = 0,
        latencyMs: UInt64 = 1, throttleMs: Int32 = 0
    ) -> Int32 {
        let req = Msg.fetchRequest(topic, partition, offset, maxWaitMs: maxWaitMs, minBytes: minBytes, isolation: isolation)
        let resp = Msg.fetchResponse(
            topic, partition, hw: hw, records: records, error: error, logStart: logStart, lso: lso ?? hw, throttleMs: throttleMs)
        return exchange(conn, 1, 12, req, resp, latencyMs: latencyMs)
    }

    /// A Fetch returning `recs` as one batch at `base`.
    @discardableResult
    func fetch(at offset: Int64, hw: Int64, batch recs: [Rec], base: Int64, conn: UInt64 = 2, latencyMs: UInt64 = 1) -> Int32 {
        fetch(at: offset, hw: hw, records: Msg.batch(recs, base: base), conn: conn, latencyMs: latencyMs)
    }

    @discardableResult
    func listOffsets(_ timestamp: Int64, answer: Int64, answerTimestamp: Int64 = -1, conn: UInt64 = 2, isolation: Int8 = 0, error: Int16 = 0)
        -> Int32
    {
        exchange(
            conn, 2, 7, Msg.listOffsetsRequest(topic, 0, timestamp, isolation: isolation),
            Msg.listOffsetsResponse(topic, 0, offset: answer, timestamp: answerTimestamp, error: error))
    }

    func check(_ configuration: CheckConfiguration = CheckConfiguration()) -> CheckReport {
        CheckEngine.check(records, configuration: configuration)
    }
}

extension CheckReport {
    /// The ids with findings.
    var ids: Set<Int> { Set(failedInvariants.map(\.number)) }
    func count(_ n: Int) -> Int { counts[InvariantID(n)] ?? 0 }
    func first(_ n: Int) -> Finding? { findings(InvariantID(n)).first }
}
