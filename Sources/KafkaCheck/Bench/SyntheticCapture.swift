import KafkaCapture
import KafkaProtocol
import NIOCore

/// A large, realistic and clean capture for benchmarking `check`: one producer and one consumer
/// connection through a proxy listener, ApiVersions and Metadata first, then rounds of Produce
/// (acks=all, 50 records per batch, values of 200-1200 bytes by default, four partitions in turn) each followed by the
/// consumer's Fetch returning that batch at its assigned offsets, and now and then a ListOffsets.
/// Deterministic: the same size gives the same bytes (apart from the capture id). The versions
/// (Metadata v9, Produce v8, Fetch v11, ListOffsets v5) are the newest Wireshark 4.0's Kafka dissector
/// decodes in full, so that `tools/bench-vs-tshark` compares the same work on both sides.
public enum SyntheticCapture {
    /// Writes a capture of at least `bytes` bytes to `path` (replacing it); returns the bytes written.
    @discardableResult
    ///
    /// `recordsPerBatch` (50 by default) sets the records per Produce and Fetch; 1 with small values
    /// gives many small exchanges (about 160 bytes of capture per exchange with 1-byte values), the
    /// shape that stresses per-exchange costs rather than per-byte ones.
    public static func write(
        path: String, bytes: Int64, valueBytes: ClosedRange<Int> = 200...1200, recordsPerBatch: Int = 50
    ) throws -> Int64 {
        let start = CaptureTimestamp(monotonicNs: 1_000_000_000, wallNs: 1_700_000_000_000_000_000)
        let header = CaptureHeader(
            toolVersion: "kafkatape bench", startTime: start, listenAddress: "127.0.0.1:19092",
            upstreamAddress: "127.0.0.1:9092")
        let writer = try CaptureWriter(path: path, header: header, overwrite: true)
        try generate(bytes: bytes, valueBytes: valueBytes, recordsPerBatch: recordsPerBatch) { record in try writer.append(record) }
        try writer.close()
        return writer.bytesWritten
    }

    /// Writes a capture of one producer connection sending `requests` acks=0 Produce requests (one
    /// small record each, never answered): the shape that made `check`'s correlation tracking
    /// quadratic. Returns the bytes written.
    @discardableResult
    public static func writeAcksZero(path: String, requests: Int) throws -> Int64 {
        let start = CaptureTimestamp(monotonicNs: 1_000_000_000, wallNs: 1_700_000_000_000_000_000)
        let header = CaptureHeader(
            toolVersion: "kafkatape bench", startTime: start, listenAddress: "127.0.0.1:19092",
            upstreamAddress: "127.0.0.1:9092")
        let writer = try CaptureWriter(path: path, header: header, overwrite: true)
        var g = Generator(emit: { record in try writer.append(record) }, valueBytes: 100...100, recordsPerBatch: 1)
        try g.runAcksZero(requests: requests)
        try writer.close()
        return writer.bytesWritten
    }

    /// Writes a capture of about `exchanges` exchanges (a few more: the last round completes) to
    /// `path` (replacing it); returns the exchanges written. The shape of `write`, counted in exchanges
    /// rather than bytes (the HTML report's benchmark).
    @discardableResult
    public static func write(
        path: String, exchanges: Int, valueBytes: ClosedRange<Int> = 200...1200, recordsPerBatch: Int = 50
    ) throws -> Int {
        let start = CaptureTimestamp(monotonicNs: 1_000_000_000, wallNs: 1_700_000_000_000_000_000)
        let header = CaptureHeader(
            toolVersion: "kafkatape bench", startTime: start, listenAddress: "127.0.0.1:19092",
            upstreamAddress: "127.0.0.1:9092")
        let writer = try CaptureWriter(path: path, header: header, overwrite: true)
        var g = Generator(emit: { record in try writer.append(record) }, valueBytes: valueBytes, recordsPerBatch: max(1, recordsPerBatch))
        try g.run(until: .max, exchanges: exchanges)
        try writer.close()
        return g.exchanges
    }

    /// Calls `emit` with records until their frames add up to at least `bytes`.
    public static func generate(
        bytes: Int64, valueBytes: ClosedRange<Int> = 200...1200, recordsPerBatch: Int = 50,
        _ emit: @escaping (CaptureRecord) throws -> Void
    ) throws {
        var g = Generator(emit: emit, valueBytes: valueBytes, recordsPerBatch: max(1, recordsPerBatch))
        try g.run(until: bytes)
    }

    private struct Generator {
        let emit: (CaptureRecord) throws -> Void
        var mono: UInt64 = 1_000_000_000
        var wall: Int64 = 1_700_000_000_000_000_000
        var emitted: Int64 = 0
        var exchanges = 0
        var correlation: [UInt64: Int32] = [1: 0, 2: 0]
        var next: [Int64] = [0, 0, 0, 0]
        var seed: UInt64 = 0x5DEE_CE66_D
        let topic = "bench"
        let topicId = KafkaUUID(high: 0x0123_4567_89ab_cdef, low: 0x0fed_cba9_8765_4321)

        let valueBytes: ClosedRange<Int>
        let recordsPerBatch: Int

        init(emit: @escaping (CaptureRecord) throws -> Void, valueBytes: ClosedRange<Int>, recordsPerBatch: Int) {
            self.emit = emit
            self.valueBytes = valueBytes
            self.recordsPerBatch = recordsPerBatch
        }

        mutating func now(advanceMs: UInt64 = 1) -> CaptureTimestamp {
            mono += advanceMs * 1_000_000
            wall += Int64(advanceMs) * 1_000_000
            return CaptureTimestamp(monotonicNs: mono, wallNs: wall)
        }

        mutating func random() -> UInt64 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return seed >> 33
        }

        mutating func frame(_ conn: UInt64, _ direction: FrameDirection, _ payload: ByteBuffer) throws {
            emitted += Int64(payload.readableBytes) + 4
            try emit(.frame(FrameRecord(time: now(), connectionId: conn, direction: direction, payload: payload)))
        }

        mutating func exchange(_ conn: UInt64, _ key: Int16, _ version: Int16, _ request: any KafkaMessage, _ response: any KafkaMessage)
            throws
        {
            let corr = correlation[conn, default: 0]
            correlation[conn] = corr + 1
            exchanges += 1
            var h = RequestHeader()
            h.requestApiKey = key
            h.requestApiVersion = version
            h.correlationId = corr
            h.clientId = conn == 1 ? "bench-producer" : "bench-consumer"
            try frame(conn, .request, KafkaFrameCodec.encodeRequest(header: h, body: request))
            var rh = ResponseHeader()
            rh.correlationId = corr
            try frame(conn, .response, KafkaFrameCodec.encodeResponse(header: rh, body: response, apiKey: key, apiVersion: version))
        }

        mutating func run(until target: Int64, exchanges limit: Int = .max) throws {
            for conn: UInt64 in [1, 2] {
                try emit(
                    .connectionOpened(
                        ConnectionOpenedRecord(
                            time: now(), connectionId: conn, clientAddress: "127.0.0.1:\(50000 + conn)",
                            listenerAddress: "127.0.0.1:19092", upstreamAddress: "127.0.0.1:9092")))
                try exchange(conn, 18, 3, ApiVersionsRequest(), apiVersions())
                try exchange(conn, 3, 9, MetadataRequest(), metadata())
            }
            var round = 0
            while emitted < target && exchanges < limit {
                let p = round % 4
                try produceAndFetch(partition: Int32(p))
                if round % 50 == 49 { try listOffsets(partition: Int32(p)) }
                round += 1
            }
            for conn: UInt64 in [1, 2] {
                try emit(.connectionClosed(ConnectionClosedRecord(time: now(), connectionId: conn, closedBy: .client, reason: "EOF")))
            }
        }

        mutating func runAcksZero(requests: Int) throws {
            try emit(
                .connectionOpened(
                    ConnectionOpenedRecord(
                        time: now(), connectionId: 1, clientAddress: "127.0.0.1:50001", listenerAddress: "127.0.0.1:19092",
                        upstreamAddress: "127.0.0.1:9092")))
            try exchange(1, 18, 3, ApiVersionsRequest(), apiVersions())
            try exchange(1, 3, 9, MetadataRequest(), metadata())
            var h = RequestHeader()
            h.requestApiKey = 0
            h.requestApiVersion = 8
            h.clientId = "bench-producer"
            for i in 0..<requests {
                let p = Int32(i % 4)
                let batch = try KafkaRecords.encodeBatch(
                    KafkaRecordBatch(baseOffset: 0, producerId: -1, records: records(count: 1, base: 0)), compression: .none)
                var req = ProduceRequest()
                req.acks = 0
                req.timeoutMs = 30_000
                var td = ProduceRequest.TopicProduceData()
                td.name = topic
                var pd = ProduceRequest.PartitionProduceData()
                pd.index = p
                pd.records = batch
                td.partitionData = [pd]
                req.topicData = [td]
                h.correlationId = Int32(truncatingIfNeeded: i + 2)
                try frame(1, .request, KafkaFrameCodec.encodeRequest(header: h, body: req))
            }
            try emit(.connectionClosed(ConnectionClosedRecord(time: now(), connectionId: 1, closedBy: .client, reason: "EOF")))
        }

        func apiVersions() -> ApiVersionsResponse {
            var r = ApiVersionsResponse()
            r.apiKeys = [(Int16(0), Int16(11)), (1, 16), (2, 8), (3, 12), (18, 3)].map { k, max in
                var v = ApiVersionsResponse.ApiVersion()
                v.apiKey = k
                v.minVersion = 0
                v.maxVersion = max
                return v
            }
            return r
        }

        func metadata() -> MetadataResponse {
            var r = MetadataResponse()
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = 0
            b.host = "127.0.0.1"
            b.port = 19092
            r.brokers = [b]
            r.clusterId = "bench"
            r.controllerId = 0
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = topic
            t.topicId = topicId
            t.partitions = (0..<4).map { i in
                var p = MetadataResponse.MetadataResponsePartition()
                p.partitionIndex = Int32(i)
                p.leaderId = 0
                p.replicaNodes = [0]
                p.isrNodes = [0]
                return p
            }
            r.topics = [t]
            return r
        }

        mutating func records(count: Int, base: Int64) -> [KafkaRecord] {
            var out: [KafkaRecord] = []
            for i in 0..<count {
                let length = valueBytes.lowerBound + Int(random() % UInt64(valueBytes.count))
                var value = ByteBuffer()
                value.reserveCapacity(length)
                for _ in 0..<length { value.writeInteger(UInt8(0x61 + random() % 26)) }
                var key = ByteBuffer()
                key.writeString("key-\(random() % 10_000)")
                out.append(
                    KafkaRecord(
                        offset: base + Int64(i), timestamp: wall / 1_000_000, key: key, value: value,
                        headers: [KafkaRecordHeader(key: "h", value: ByteBuffer(string: "v"))]))
            }
            return out
        }

        mutating func produceAndFetch(partition p: Int32) throws {
            let count = recordsPerBatch
            let base = next[Int(p)]
            let produced = records(count: count, base: 0)
            let requestBatch = try KafkaRecords.encodeBatch(
                KafkaRecordBatch(baseOffset: 0, producerId: -1, records: produced), compression: .none)
            var req = ProduceRequest()
            req.acks = -1
            req.timeoutMs = 30_000
            var td = ProduceRequest.TopicProduceData()
            td.name = topic
            var pd = ProduceRequest.PartitionProduceData()
            pd.index = p
            pd.records = requestBatch
            td.partitionData = [pd]
            req.topicData = [td]
            var resp = ProduceResponse()
            var tr = ProduceResponse.TopicProduceResponse()
            tr.name = topic
            var pr = ProduceResponse.PartitionProduceResponse()
            pr.index = p
            pr.baseOffset = base
            pr.logStartOffset = 0
            tr.partitionResponses = [pr]
            resp.responses = [tr]
            try exchange(1, 0, 8, req, resp)
            next[Int(p)] = base + Int64(count)

            let stored = produced.enumerated().map { i, r in
                var r = r
                r.offset = base + Int64(i)
                return r
            }
            let fetchedBatch = try KafkaRecords.encodeBatch(
                KafkaRecordBatch(baseOffset: base, partitionLeaderEpoch: 0, records: stored), compression: .none)
            var freq = FetchRequest()
            freq.maxWaitMs = 500
            freq.minBytes = 1
            freq.maxBytes = 52_428_800
            freq.sessionEpoch = -1
            var ft = FetchRequest.FetchTopic()
            ft.topic = topic
            var fp = FetchRequest.FetchPartition()
            fp.partition = p
            fp.fetchOffset = base
            fp.logStartOffset = -1
            fp.partitionMaxBytes = 1_048_576
            ft.partitions = [fp]
            freq.topics = [ft]
            var fresp = FetchResponse()
            var fr = FetchResponse.FetchableTopicResponse()
            fr.topic = topic
            var pdata = FetchResponse.PartitionData()
            pdata.partitionIndex = p
            pdata.highWatermark = base + Int64(count)
            pdata.lastStableOffset = base + Int64(count)
            pdata.logStartOffset = 0
            pdata.records = fetchedBatch
            fr.partitions = [pdata]
            fresp.responses = [fr]
            try exchange(2, 1, 11, freq, fresp)
        }

        mutating func listOffsets(partition p: Int32) throws {
            var req = ListOffsetsRequest()
            req.replicaId = -1
            var t = ListOffsetsRequest.ListOffsetsTopic()
            t.name = topic
            var rp = ListOffsetsRequest.ListOffsetsPartition()
            rp.partitionIndex = p
            rp.timestamp = -1
            t.partitions = [rp]
            req.topics = [t]
            var resp = ListOffsetsResponse()
            var rt = ListOffsetsResponse.ListOffsetsTopicResponse()
            rt.name = topic
            var pp = ListOffsetsResponse.ListOffsetsPartitionResponse()
            pp.partitionIndex = p
            pp.offset = next[Int(p)]
            pp.timestamp = -1
            rt.partitions = [pp]
            resp.topics = [rt]
            try exchange(2, 2, 5, req, resp)
        }
    }
}
