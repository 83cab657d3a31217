import KafkaCapture
import KafkaProtocol
import KafkaReplay
import Foundation
import NIOCore

/// Builds captures in memory from typed messages: connections, exchanges with chosen timings.
struct SessionBuilder {
    var records: [CaptureRecord] = []
    /// Monotonic nanoseconds of the next record.
    var now: UInt64 = 1_000_000_000

    func ts(_ ns: UInt64) -> CaptureTimestamp { CaptureTimestamp(monotonicNs: ns, wallNs: 1_700_000_000_000_000_000 + Int64(ns)) }

    mutating func advance(_ ns: UInt64 = 1_000_000) { now += ns }

    mutating func open(_ connection: UInt64, node: Int32 = -1) {
        records.append(
            .connectionOpened(
                ConnectionOpenedRecord(
                    time: ts(now), connectionId: connection, clientAddress: "127.0.0.1:5000\(connection)",
                    listenerAddress: "127.0.0.1:9092", upstreamAddress: "127.0.0.1:9093", nodeId: node)))
        advance()
    }

    mutating func close(_ connection: UInt64) {
        records.append(.connectionClosed(ConnectionClosedRecord(time: ts(now), connectionId: connection, closedBy: .client, reason: "EOF")))
        advance()
    }

    static func requestPayload(_ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32, clientId: String = "test")
        -> ByteBuffer
    {
        var h = RequestHeader()
        h.requestApiKey = apiKey
        h.requestApiVersion = version
        h.correlationId = correlationId
        h.clientId = clientId
        return KafkaFrameCodec.encodeRequest(header: h, body: body)
    }

    static func responsePayload(_ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32) -> ByteBuffer {
        var h = ResponseHeader()
        h.correlationId = correlationId
        return KafkaFrameCodec.encodeResponse(header: h, body: body, apiKey: apiKey, apiVersion: version)
    }

    mutating func request(_ connection: UInt64, _ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32) {
        records.append(
            .frame(
                FrameRecord(
                    time: ts(now), connectionId: connection, direction: .request,
                    payload: Self.requestPayload(body, apiKey: apiKey, version: version, correlationId: correlationId))))
        advance()
    }

    mutating func response(_ connection: UInt64, _ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32) {
        records.append(
            .frame(
                FrameRecord(
                    time: ts(now), connectionId: connection, direction: .response,
                    payload: Self.responsePayload(body, apiKey: apiKey, version: version, correlationId: correlationId))))
        advance()
    }

    /// A request immediately followed by its response.
    mutating func exchange(
        _ connection: UInt64, _ request: any KafkaMessage, _ response: any KafkaMessage, apiKey: Int16, version: Int16,
        correlationId: Int32
    ) {
        self.request(connection, request, apiKey: apiKey, version: version, correlationId: correlationId)
        self.response(connection, response, apiKey: apiKey, version: version, correlationId: correlationId)
    }

    var session: RecordedSession { RecordedSession(records: records) }
}

/// Typed messages the tests use again and again.
enum Messages {
    static let topicId = KafkaUUID(high: 0x0102_0304_0506_0708, low: 0x1112_1314_1516_1718)

    static func metadataRequest(_ topics: [String]) -> MetadataRequest {
        var r = MetadataRequest()
        r.topics = topics.map {
            var t = MetadataRequest.MetadataRequestTopic()
            t.name = $0
            return t
        }
        r.allowAutoTopicCreation = false
        return r
    }

    static func metadataResponse(
        brokers: [(Int32, Int)], topics: [(String, KafkaUUID, Int16)] = [("orders", topicId, 0)], leaderEpoch: Int32 = 0
    ) -> MetadataResponse {
        var m = MetadataResponse()
        m.clusterId = "cluster-a"
        m.controllerId = brokers.first?.0 ?? -1
        m.brokers = brokers.map { node, port in
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = node
            b.host = "127.0.0.1"
            b.port = Int32(port)
            return b
        }
        m.topics = topics.map { name, id, error in
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = name
            t.topicId = id
            t.errorCode = error
            if error == 0 {
                var p = MetadataResponse.MetadataResponsePartition()
                p.partitionIndex = 0
                p.leaderId = brokers.first?.0 ?? -1
                p.leaderEpoch = leaderEpoch
                p.replicaNodes = [p.leaderId]
                p.isrNodes = [p.leaderId]
                t.partitions = [p]
            }
            return t
        }
        return m
    }

    static func batch(_ values: [String], producerId: Int64 = -1, producerEpoch: Int16 = -1, baseOffset: Int64 = 0) -> ByteBuffer {
        let records = values.enumerated().map { i, v in
            KafkaRecord(
                offset: baseOffset + Int64(i), timestamp: 1_700_000_000_000 + Int64(i), key: ByteBuffer(string: "k\(i)"),
                value: ByteBuffer(string: v), headers: [KafkaRecordHeader(key: "n", value: ByteBuffer(string: "\(i)"))])
        }
        let batch = KafkaRecordBatch(
            baseOffset: baseOffset, producerId: producerId, producerEpoch: producerEpoch, baseSequence: producerId >= 0 ? 0 : -1,
            records: records)
        return (try? KafkaRecords.encodeBatch(batch, compression: .none)) ?? ByteBuffer()
    }

    static func produceRequest(_ records: ByteBuffer, topic: String = "orders") -> ProduceRequest {
        var r = ProduceRequest()
        r.acks = -1
        r.timeoutMs = 30_000
        var t = ProduceRequest.TopicProduceData()
        t.name = topic
        var p = ProduceRequest.PartitionProduceData()
        p.index = 0
        p.records = records
        t.partitionData = [p]
        r.topicData = [t]
        return r
    }

    static func produceResponse(baseOffset: Int64, error: Int16 = 0, topic: String = "orders") -> ProduceResponse {
        var r = ProduceResponse()
        var t = ProduceResponse.TopicProduceResponse()
        t.name = topic
        var p = ProduceResponse.PartitionProduceResponse()
        p.index = 0
        p.errorCode = error
        p.baseOffset = baseOffset
        t.partitionResponses = [p]
        r.responses = [t]
        return r
    }

    static func fetchRequest(offset: Int64, topic: String = "orders", sessionId: Int32 = 0, epoch: Int32 = 0) -> FetchRequest {
        var r = FetchRequest()
        r.maxWaitMs = 100
        r.minBytes = 1
        r.maxBytes = 1 << 20
        r.sessionId = sessionId
        r.sessionEpoch = epoch
        var t = FetchRequest.FetchTopic()
        t.topic = topic
        t.topicId = topicId
        var p = FetchRequest.FetchPartition()
        p.partition = 0
        p.fetchOffset = offset
        p.partitionMaxBytes = 1 << 20
        t.partitions = [p]
        r.topics = [t]
        return r
    }

    static func fetchResponse(
        records: ByteBuffer, highWatermark: Int64, lastStableOffset: Int64? = nil, error: Int16 = 0, topic: String = "orders",
        sessionId: Int32 = 0
    ) -> FetchResponse {
        var r = FetchResponse()
        r.sessionId = sessionId
        var t = FetchResponse.FetchableTopicResponse()
        t.topic = topic
        t.topicId = topicId
        var p = FetchResponse.PartitionData()
        p.partitionIndex = 0
        p.errorCode = error
        p.highWatermark = highWatermark
        p.lastStableOffset = lastStableOffset ?? highWatermark
        p.logStartOffset = 0
        p.records = records
        t.partitions = [p]
        r.responses = [t]
        return r
    }
}

/// A capture sink that keeps records in memory.
final class MemorySink: ProxyCaptureSink, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [CaptureRecord] = []

    func submit(_ record: CaptureRecord) -> Bool {
        lock.withLock { stored.append(record) }
        return true
    }

    var isWritable: Bool { true }
    func setWritabilityHandler(_ handler: @escaping @Sendable () -> Void) {}
    var bytesWritten: Int { 0 }
    var failure: (any Error)? { nil }
    var records: [CaptureRecord] { lock.withLock { stored } }
}
