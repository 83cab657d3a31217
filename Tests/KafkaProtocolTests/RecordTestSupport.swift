import Foundation
import NIOCore

@testable import KafkaProtocol

/// A record as the fixtures' `.expected.json` sidecars describe it: UTF-8 key, value and headers.
struct RecordExpectation: Hashable, CustomStringConvertible {
    var key: String?
    var value: String?
    var headers: [String: String?]

    init(key: String?, value: String?, headers: [String: String?]) {
        self.key = key
        self.value = value
        self.headers = headers
    }

    init(_ record: KafkaRecord) {
        key = record.key.map { String(buffer: $0) }
        value = record.value.map { String(buffer: $0) }
        var h: [String: String?] = [:]
        for header in record.headers { h[header.key] = header.value.map { String(buffer: $0) } }
        headers = h
    }

    init(json: [String: Any]) {
        key = json["key"] as? String
        value = json["value"] as? String
        var h: [String: String?] = [:]
        for (k, v) in json["headers"] as? [String: Any] ?? [:] { h[k] = v as? String }
        headers = h
    }

    var description: String { "{key: \(key ?? "null"), value: \(value ?? "null"), headers: \(headers)}" }
}

/// The `records` fields of a fixture session's Produce requests and Fetch responses, found by decoding
/// the frames with the generated messages.
struct RecordFixture {
    var produced: [ByteBuffer] = []
    var fetched: [ByteBuffer] = []
    var expected: [RecordExpectation] = []

    init(_ session: String) throws {
        expected = try Fixtures.expected(session).map(RecordExpectation.init(json:))
        for exchange in try Fixtures.exchanges(session) {
            let request = exchange.request.payload
            guard let apiKey = request.getInteger(at: request.readerIndex, as: Int16.self),
                let version = request.getInteger(at: request.readerIndex + 2, as: Int16.self),
                apiKey == ProduceRequest.apiKey || apiKey == FetchRequest.apiKey,
                let api = KafkaAPIs.descriptor(apiKey: apiKey)
            else { continue }
            if apiKey == ProduceRequest.apiKey {
                var reader = KafkaReader(request)
                _ = try RequestHeader(from: &reader, version: api.requestHeaderVersion(version))
                let produce = try ProduceRequest.decode(reader.buffer, version: version)
                for topic in produce.topicData {
                    for partition in topic.partitionData {
                        if let r = partition.records, r.readableBytes > 0 { produced.append(r) }
                    }
                }
            } else if let response = exchange.response {
                var reader = KafkaReader(response.payload)
                _ = try ResponseHeader(from: &reader, version: api.responseHeaderVersion(version))
                let fetch = try FetchResponse.decode(reader.buffer, version: version)
                for topic in fetch.responses {
                    for partition in topic.partitions {
                        if let r = partition.records, r.readableBytes > 0 { fetched.append(r) }
                    }
                }
            }
        }
    }
}

/// Deterministic sample data for record tests.
enum RecordSamples {
    static func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    /// `count` bytes of pseudo-random but compressible text.
    static func text(_ count: Int, seed: UInt64) -> ByteBuffer {
        var rng = SeededRandom(seed: seed)
        let words = ["kafka", "tape", "record", "batch", "offset", "zstd", "snappy", "lz4", "gzip", " ", "\n", "0123"]
        var b = ByteBufferAllocator().buffer(capacity: count + 8)
        while b.readableBytes < count { b.writeString(words[Int(rng.next() % UInt64(words.count))]) }
        return b.getSlice(at: b.readerIndex, length: count) ?? b
    }

    /// `count` bytes of incompressible noise.
    static func noise(_ count: Int, seed: UInt64) -> ByteBuffer {
        var rng = SeededRandom(seed: seed)
        var b = ByteBufferAllocator().buffer(capacity: count)
        for _ in 0..<count { b.writeInteger(UInt8(truncatingIfNeeded: rng.next())) }
        return b
    }

    /// Records covering every shape a record can take.
    static func varied(baseOffset: Int64 = 1000, baseTimestamp: Int64 = 1_700_000_000_000) -> [KafkaRecord] {
        var records: [KafkaRecord] = [
            KafkaRecord(offset: 0, timestamp: 0, key: bytes("k0"), value: bytes("plain")),
            KafkaRecord(offset: 1, timestamp: 5, key: nil, value: bytes("null key")),
            KafkaRecord(offset: 2, timestamp: 5, key: bytes("null value"), value: nil),
            KafkaRecord(offset: 3, timestamp: -3, key: bytes("empty value"), value: ByteBuffer()),
            KafkaRecord(offset: 4, timestamp: 9, key: ByteBuffer(), value: bytes("empty key")),
            KafkaRecord(
                offset: 5, timestamp: 10, key: bytes("headers"), value: bytes("v"),
                headers: [
                    KafkaRecordHeader(key: "h", value: bytes("1")),
                    KafkaRecordHeader(key: "null-value", value: nil),
                    KafkaRecordHeader(key: "", value: ByteBuffer()),
                    KafkaRecordHeader(key: "h", value: bytes("duplicate key")),
                    KafkaRecordHeader(key: "grüße 東京 €", value: bytes("ü")),
                ]),
            KafkaRecord(offset: 6, timestamp: 11, key: bytes("large text"), value: text(200_000, seed: 1)),
            KafkaRecord(offset: 7, timestamp: 12, key: bytes("large noise"), value: noise(70_000, seed: 2)),
            KafkaRecord(offset: 9, timestamp: 1 << 40, key: bytes("offset gap"), value: bytes("after a gap")),
        ]
        for i in 0..<records.count {
            records[i].offset += baseOffset
            records[i].timestamp += baseTimestamp
        }
        return records
    }

    static func many(_ count: Int, baseOffset: Int64 = 0) -> [KafkaRecord] {
        (0..<count).map { i in
            KafkaRecord(
                offset: baseOffset + Int64(i), timestamp: 1_700_000_000_000 + Int64(i % 17),
                key: i % 5 == 0 ? nil : bytes("key-\(i)"), value: bytes(String(repeating: "value-\(i)-", count: i % 7)),
                headers: i % 3 == 0 ? [KafkaRecordHeader(key: "n", value: bytes("\(i)"))] : [])
        }
    }

    /// A v2 batch with an arbitrary payload after the record count, with correct length and CRC.
    static func rawV2Batch(count: Int32, attributes: Int16 = 0, payload: [UInt8], baseOffset: Int64 = 0) -> ByteBuffer {
        var b = ByteBuffer()
        b.writeInteger(baseOffset)
        b.writeInteger(Int32(49 + payload.count))
        b.writeInteger(Int32(0))  // partition leader epoch
        b.writeInteger(Int8(2))
        b.writeInteger(UInt32(0))  // crc
        b.writeInteger(attributes)
        b.writeInteger(max(count - 1, 0))
        b.writeInteger(Int64(0))
        b.writeInteger(Int64(0))
        b.writeInteger(Int64(-1))
        b.writeInteger(Int16(-1))
        b.writeInteger(Int32(-1))
        b.writeInteger(count)
        b.writeBytes(payload)
        return withFixedCRC(b)
    }

    /// Recomputes the length and CRC-32C of a single v2 batch whose bytes were edited.
    static func withFixedCRC(_ batch: ByteBuffer) -> ByteBuffer {
        var b = batch
        b.setInteger(Int32(b.readableBytes - 12), at: b.readerIndex + 8)
        let crc = b.withUnsafeReadableBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[21...])) }
        b.setInteger(crc, at: b.readerIndex + 17)
        return b
    }

    /// Replaces the compressed payload (everything after the 61-byte header) of a v2 batch.
    static func replacingPayload(of batch: ByteBuffer, with payload: [UInt8]) -> ByteBuffer {
        var b = batch.getSlice(at: batch.readerIndex, length: 61) ?? ByteBuffer()
        b.writeBytes(payload)
        return withFixedCRC(b)
    }

    static func payload(of batch: ByteBuffer) -> [UInt8] {
        batch.getBytes(at: batch.readerIndex + 61, length: batch.readableBytes - 61) ?? []
    }
}

extension KafkaDecodingError.Kind {
    var isCompression: Bool {
        if case .compression = self { return true }
        return false
    }

    var isInvalidRecords: Bool {
        if case .invalidRecords = self { return true }
        return false
    }
}
