import Foundation
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

@Suite struct RecordRoundTripTests {
    @Test func everyRecordTypeRoundTripsThroughAFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let records = sampleRecords()
            try writeCapture(records, to: path)
            let (read, reader) = try readCapture(path)
            #expect(read == records)
            #expect(reader.header == testHeader())
            #expect(reader.tornTail == nil)
            #expect(reader.ignoredSegment == nil)
            #expect(reader.skippedRecordTypes.isEmpty)
            #expect(reader.recordCount == records.count)
        }
    }

    @Test func everyRecordTypeRoundTripsInMemory() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "mem", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        #expect(Int64(storage.contents(of: "mem")?.readableBytes ?? 0) == writer.bytesWritten)
        let (read, _) = try readCapture("mem", storage: storage)
        #expect(read == records)
    }

    @Test func encodedSizeMatchesEncoding() throws {
        for r in sampleRecords() {
            #expect(try r.encoded().readableBytes == r.encodedSize, "\(r.type)")
        }
    }

    /// The layout docs/capture-format.md describes, byte for byte.
    @Test func frameRecordGoldenBytes() throws {
        let record = CaptureRecord.frame(
            FrameRecord(
                time: CaptureTimestamp(monotonicNs: 0x0102, wallNs: 0x0304), connectionId: 5, direction: .response,
                flags: [.truncated], wireLength: 9, payload: bytes([0xAA, 0xBB])))
        let encoded = Array(try record.encoded().readableBytesView)
        let body: [UInt8] =
            [0, 0, 0, 0, 0, 0, 0x01, 0x02]  // monotonic ns
            + [0, 0, 0, 0, 0, 0, 0x03, 0x04]  // wall ns
            + [0, 0, 0, 0, 0, 0, 0, 5]  // connection id
            + [1]  // direction: response
            + [2]  // flags: truncated
            + [0, 0, 0, 9]  // wire length
            + [0xAA, 0xBB]  // payload
        let crc = CRC32C.checksum([2] + body)
        let expected: [UInt8] =
            [0, 0, 0, UInt8(body.count)]
            + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]
            + [2] + body
        #expect(encoded == expected)
    }

    @Test func fileHeaderGoldenPrefix() throws {
        let encoded = Array(testHeader().encodedFileHeader().readableBytesView)
        #expect(Array(encoded[0..<8]) == [0x4B, 0x54, 0x41, 0x50, 0x45, 0x0D, 0x0A, 0x1A])
        #expect(Array(encoded[8..<10]) == [0, 1])
        let length = Int(encoded[10]) << 24 | Int(encoded[11]) << 16 | Int(encoded[12]) << 8 | Int(encoded[13])
        #expect(encoded.count == 18 + length)
        let body = Array(encoded[18...])
        let crc = CRC32C.checksum(body)
        #expect(Array(encoded[14..<18]) == [UInt8(crc >> 24), UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)])
        // segment index, then the capture id.
        #expect(Array(body[0..<4]) == [0, 0, 0, 0])
        #expect(Array(body[4..<20]) == testHeader().captureId.bytes)
    }

    @Test func readerFramePayloadIsASliceOfTheReadChunk() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            try writeCapture([frame(1, .request, ByteBuffer(repeating: 7, count: 100)), frame(1, .request, ByteBuffer(repeating: 8, count: 100))], to: path)
            let reader = try CaptureReader(path: path)
            guard case .frame(let a) = try reader.next(), case .frame(let b) = try reader.next() else {
                Issue.record("expected two frames")
                return
            }
            // Both payloads point into the same chunk storage: no per-record copy.
            let pa = a.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            let pb = b.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            #expect(pb - pa == UInt(a.encodedPayloadStride))
        }
    }

    @Test func trailingFieldsFromANewerWriterAreIgnored() throws {
        // A connection-closed body with 5 extra bytes appended, as a later minor revision might write.
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        try writer.close()
        let original = ConnectionClosedRecord(time: ts(1), connectionId: 3, closedBy: .broker, reason: "reset")
        var body = ByteBuffer()
        body.writeTimestamp(original.time)
        body.writeInteger(UInt64(3))
        body.writeInteger(UInt8(1))
        body.writeCaptureString("reset")
        body.writeBytes([9, 9, 9, 9, 9])
        var file = storage.contents(of: "m") ?? ByteBuffer()
        file.writeImmutableBuffer(rawRecord(type: 4, body: body))
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == [.connectionClosed(original)])
        #expect(reader.tornTail == nil)
    }

    @Test func unknownRecordTypesAreSkippedAndCounted() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        try writer.append(sampleRecords()[0])
        try writer.close()
        var file = storage.contents(of: "m") ?? ByteBuffer()
        file.writeImmutableBuffer(rawRecord(type: 200, body: bytes([1, 2, 3, 4])))
        file.writeImmutableBuffer(rawRecord(type: 200, body: ByteBuffer()))
        file.writeImmutableBuffer(try sampleRecords()[1].encoded())
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == Array(sampleRecords()[0...1]))
        #expect(reader.skippedRecordTypes == [CaptureRecordType(rawValue: 200): 2])
        #expect(reader.tornTail == nil)
    }

    /// A record whose CRC matches but whose body does not parse is damage like any other: skipped,
    /// reported, and the record after it read.
    @Test func malformedBodyWithValidCRCIsSkipped() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        try writer.append(sampleRecords()[0])
        try writer.close()
        var file = storage.contents(of: "m") ?? ByteBuffer()
        let goodEnd = file.readableBytes
        var body = ByteBuffer()
        body.writeTimestamp(ts(1))
        body.writeInteger(UInt64(1))
        body.writeInteger(UInt8(7))  // no such direction
        body.writeInteger(UInt8(0))
        body.writeInteger(UInt32(0))
        file.writeImmutableBuffer(rawRecord(type: 2, body: body))
        file.writeImmutableBuffer(try sampleRecords()[1].encoded())
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == Array(sampleRecords()[0...1]))
        #expect(reader.tornTail == nil)
        let span = try #require(reader.corruptSpans.first)
        #expect(span.offset == Int64(goodEnd))
        #expect(span.length == Int64(CaptureFormat.recordHeaderSize + body.readableBytes))
        guard case .malformedRecord(let type, let detail) = span.reason else {
            Issue.record("unexpected reason \(span.reason)")
            return
        }
        #expect(type == .frame)
        #expect(detail.contains("direction"))
    }

    @Test func recordPositionsAreReported() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        let reader = try CaptureReader(path: "m", storage: storage)
        var expectedOffset = Int64(testHeader().encodedFileHeader().readableBytes)
        while let r = try reader.next() {
            #expect(reader.lastRecordPosition == CapturePosition(segmentIndex: 0, offset: expectedOffset))
            expectedOffset += Int64(r.encodedSize)
        }
    }
}

/// A framed record with an arbitrary type code and body, CRC included.
func rawRecord(type: UInt8, body: ByteBuffer) -> ByteBuffer {
    var b = ByteBuffer()
    b.writeInteger(UInt32(body.readableBytes))
    var typed = ByteBuffer()
    typed.writeInteger(type)
    typed.writeImmutableBuffer(body)
    b.writeInteger(CRC32C.checksum(typed))
    b.writeBuffer(&typed)
    return b
}

extension FrameRecord {
    /// Distance from one frame payload to the next in a file of consecutive frames.
    var encodedPayloadStride: Int { CaptureRecord.frame(self).encodedSize }
}
