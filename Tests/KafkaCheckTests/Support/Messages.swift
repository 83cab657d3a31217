import KafkaProtocol
import NIOCore

/// Typed Kafka messages for tests, at the versions the builder uses (Produce v9, Fetch v12,
/// ListOffsets v7, Metadata v12, ApiVersions v3).
enum Msg {
    static func record(_ r: Rec, offset: Int64) -> KafkaRecord {
        KafkaRecord(
            offset: offset, timestamp: r.timestamp, key: r.key.map { ByteBuffer(string: $0) },
            value: r.value.map { ByteBuffer(string: $0) },
            headers: r.headers.map { KafkaRecordHeader(key: $0.0, value: $0.1.map { ByteBuffer(string: $0) }) })
    }

    static func batchValue(
        _ recs: [Rec], base: Int64, producerId: Int64 = -1, baseSequence: Int32 = -1, transactional: Bool = false
    ) -> KafkaRecordBatch {
        KafkaRecordBatch(
            baseOffset: base, attributes: transactional ? 0x10 : 0, producerId: producerId, producerEpoch: producerId >= 0 ? 0 : -1,
            baseSequence: baseSequence, records: recs.enumerated().map { record($0.element, offset: base + Int64($0.offset)) })
    }

    static func batch(
        _ recs: [Rec], base: Int64, producerId: Int64 = -1, baseSequence: Int32 = -1, transactional: Bool = false,
        compression: KafkaCompression = .none
    ) -> ByteBuffer {
        encode(batchValue(recs, base: base, producerId: producerId, baseSequence: baseSequence, transactional: transactional), compression)
    }

    static func encode(_ b: KafkaRecordBatch, _ compression: KafkaCompression = .none) -> ByteBuffer {
        (try? KafkaRecords.encodeBatch(b, compression: compression)) ?? ByteBuffer()
    }

    static func produceRequest(_ topic: String, _ partition: Int32, _ records: ByteBuffer, acks: Int16, transactional: Bool = false)
        -> ProduceRequest
    {
        var r = ProduceRequest()
        r.acks = acks
        r.timeoutMs = 30_000
        if transactional { r.transactionalId = "tx" }
        var t = ProduceRequest.TopicProduceData()
        t.name = topic
        var p = ProduceRequest.PartitionProduceData()
        p.index = partition
        p.records = records
        t.partitionData = [p]
        r.topicData = [t]
        return r
    }

    static func produceResponse(_ topic: String, _ partition: Int32, base: Int64, error: Int16 = 0, logAppendTime: Int64 = -1)
        -> ProduceResponse
    {
        var r = ProduceResponse()
        var t = ProduceResponse.TopicProduceResponse()
        t.name = topic
        var p = ProduceResponse.PartitionProduceResponse()
        p.index = partition
        p.errorCode = error
        p.baseOffset = error == 0 ? base : -1
        p.logAppendTimeMs = logAppendTime
        p.logStartOffset = 0
        // Kafka says why (KIP-467's ErrorMessage, Produce v8+); I23 flags errors without a message.
        if error != 0 { p.errorMessage = "test: \(KafkaErrorCode.name(error))" }
        t.partitionResponses = [p]
        r.responses = [t]
        return r
    }

    static func fetchRequest(_ topic: String, _ partition: Int32, _ offset: Int64, maxWaitMs: Int32 = 500, minBytes: Int32 = 1, isolation: Int8 = 0)
        -> FetchRequest
    {
        var r = FetchRequest()
        r.maxWaitMs = maxWaitMs
        r.minBytes = minBytes
        r.isolationLevel = isolation
        r.sessionEpoch = -1
        var t = FetchRequest.FetchTopic()
        t.topic = topic
        var p = FetchRequest.FetchPartition()
        p.partition = partition
        p.fetchOffset = offset
        p.partitionMaxBytes = 1 << 20
        t.partitions = [p]
        r.topics = [t]
        return r
    }

    static func fetchResponse(
        _ topic: String, _ partition: Int32, hw: Int64, records: ByteBuffer?, error: Int16 = 0, logStart: Int64 = 0, lso: Int64,
        throttleMs: Int32 = 0
    ) -> FetchResponse {
        var r = FetchResponse()
        r.throttleTimeMs = throttleMs
        var t = FetchResponse.FetchableTopicResponse()
        t.topic = topic
        var p = FetchResponse.PartitionData()
        p.partitionIndex = partition
        p.errorCode = error
        p.highWatermark = hw
        p.lastStableOffset = lso
        p.logStartOffset = logStart
        p.records = records ?? ByteBuffer()
        t.partitions = [p]
        r.responses = [t]
        return r
    }

    static func listOffsetsRequest(_ topic: String, _ partition: Int32, _ timestamp: Int64, isolation: Int8 = 0) -> ListOffsetsRequest {
        var r = ListOffsetsRequest()
        r.replicaId = -1
        r.isolationLevel = isolation
        var t = ListOffsetsRequest.ListOffsetsTopic()
        t.name = topic
        var p = ListOffsetsRequest.ListOffsetsPartition()
        p.partitionIndex = partition
        p.timestamp = timestamp
        t.partitions = [p]
        r.topics = [t]
        return r
    }

    static func listOffsetsResponse(_ topic: String, _ partition: Int32, offset: Int64, timestamp: Int64 = -1, error: Int16 = 0)
        -> ListOffsetsResponse
    {
        var r = ListOffsetsResponse()
        var t = ListOffsetsResponse.ListOffsetsTopicResponse()
        t.name = topic
        var p = ListOffsetsResponse.ListOffsetsPartitionResponse()
        p.partitionIndex = partition
        p.errorCode = error
        p.offset = offset
        p.timestamp = timestamp
        t.partitions = [p]
        r.topics = [t]
        return r
    }

    static func apiVersions(_ ranges: [(Int16, Int16, Int16)]? = nil, error: Int16 = 0) -> ApiVersionsResponse {
        var r = ApiVersionsResponse()
        r.errorCode = error
        let list = ranges ?? [(0, 0, 11), (1, 0, 16), (2, 0, 8), (3, 0, 12), (8, 0, 9), (9, 0, 9), (11, 0, 9), (14, 0, 5), (18, 0, 4), (19, 0, 7), (20, 0, 6)]
        r.apiKeys = list.map { k, lo, hi in
            var v = ApiVersionsResponse.ApiVersion()
            v.apiKey = k
            v.minVersion = lo
            v.maxVersion = hi
            return v
        }
        return r
    }

    static func metadata(
        brokers: [(Int32, String, Int32)] = [(0, "127.0.0.1", 19092)], topics: [(String, Int, Int)], error: Int16 = 0
    ) -> MetadataResponse {
        var r = MetadataResponse()
        r.brokers = brokers.map { id, host, port in
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = id
            b.host = host
            b.port = port
            return b
        }
        r.clusterId = "test"
        r.controllerId = 0
        r.topics = topics.map { name, partitions, replicas in
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = name
            t.errorCode = error
            t.partitions =
                error != 0
                ? []
                : (0..<partitions).map { i in
                    var p = MetadataResponse.MetadataResponsePartition()
                    p.partitionIndex = Int32(i)
                    p.leaderId = 0
                    p.replicaNodes = Array(0..<Int32(replicas))
                    p.isrNodes = p.replicaNodes
                    return p
                }
            return t
        }
        return r
    }

    static func metadataRequest(_ topics: [String]) -> MetadataRequest {
        var r = MetadataRequest()
        r.topics = topics.map { name in
            var t = MetadataRequest.MetadataRequestTopic()
            t.name = name
            return t
        }
        return r
    }

    /// A consumer-protocol blob: INT16 version then the schema.
    static func consumerBlob(_ message: any KafkaMessage, version: Int16) -> ByteBuffer {
        var w = KafkaWriter()
        w.writeInt16(version)
        message.encode(to: &w, version: version)
        return w.buffer
    }

    static func assignment(_ parts: [(String, [Int32])]) -> ByteBuffer {
        var a = ConsumerProtocolAssignment()
        a.assignedPartitions = parts.map { topic, partitions in
            var tp = ConsumerProtocolAssignment.TopicPartition()
            tp.topic = topic
            tp.partitions = partitions
            return tp
        }
        return consumerBlob(a, version: 1)
    }

    static func subscription(_ topics: [String], owned: [(String, [Int32])] = []) -> ByteBuffer {
        var s = ConsumerProtocolSubscription()
        s.topics = topics
        s.ownedPartitions = owned.map { topic, partitions in
            var tp = ConsumerProtocolSubscription.TopicPartition()
            tp.topic = topic
            tp.partitions = partitions
            return tp
        }
        return consumerBlob(s, version: 1)
    }
}
