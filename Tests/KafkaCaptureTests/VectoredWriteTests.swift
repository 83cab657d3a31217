import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

/// Frame payloads written in place with writev (no copy into the write buffer) give the very same
/// file as copying them: byte for byte, with rotation, many parts per write, and on storage without
/// vectored I/O.
@Suite struct VectoredWriteTests {
    /// Small and large frames (a payload shared by several records, a slice with a non-zero reader
    /// index, an empty one), events and the other record types, interleaved.
    static func mixedRecords() -> [CaptureRecord] {
        var big = ByteBuffer()
        for i in 0..<70_000 { big.writeInteger(UInt8(truncatingIfNeeded: i &* 7)) }
        var sliced = big
        sliced.moveReaderIndex(forwardBy: 1234)
        var out: [CaptureRecord] = []
        for i in 0..<600 {
            let size = [0, 10, 1023, 1024, 5000, 300][i % 6]
            let payload = big.getSlice(at: (i * 13) % 1000, length: size) ?? ByteBuffer()
            out.append(frame(UInt64(i % 5), i % 2 == 0 ? .request : .response, payload, at: UInt64(i)))
            if i % 97 == 0 { out.append(frame(1, .response, big, at: UInt64(i))) }
            if i % 131 == 0 { out.append(frame(2, .request, sliced, at: UInt64(i))) }
        }
        out.append(contentsOf: sampleRecords())
        return out
    }

    static func write(_ records: [CaptureRecord], to path: String, vectored: Int?, rotateBytes: Int? = nil, bufferSize: Int = 64 * 1024) throws -> [String] {
        let writer = try CaptureWriter(
            path: path, header: testHeader(), rotateBytes: rotateBytes, bufferSize: bufferSize, vectoredMinPayload: vectored)
        for r in records { try writer.append(r) }
        try writer.close()
        return writer.segmentPaths
    }

    @Test(arguments: [nil, 200_000] as [Int?])
    func vectoredFilesAreByteForByteTheCopiedOnes(rotateBytes: Int?) throws {
        try withTemporaryDirectory { dir in
            let records = Self.mixedRecords()
            let copied = try Self.write(records, to: dir + "/copy.ktape", vectored: nil, rotateBytes: rotateBytes)
            let vectored = try Self.write(records, to: dir + "/writev.ktape", vectored: 1, rotateBytes: rotateBytes)
            #expect(copied.count == vectored.count)
            if rotateBytes != nil { #expect(copied.count > 1) }
            for (c, v) in zip(copied, vectored) { #expect(try fileBytes(c) == fileBytes(v), "\(v)") }
            let (read, reader) = try readCapture(dir + "/writev.ktape")
            #expect(read == records)
            #expect(reader.tornTail == nil)
        }
    }

    @Test func morePartsThanOneWritevTakes() throws {
        // 4-byte payloads, all in place, with a buffer large enough that only the part cap flushes.
        try withTemporaryDirectory { dir in
            let records = (0..<3000).map { frame(1, .request, bytes([1, 2, 3, UInt8(truncatingIfNeeded: $0)]), at: UInt64($0)) }
            _ = try Self.write(records, to: dir + "/many.ktape", vectored: 1, bufferSize: 1 << 22)
            _ = try Self.write(records, to: dir + "/copy.ktape", vectored: nil, bufferSize: 1 << 22)
            #expect(try fileBytes(dir + "/many.ktape") == fileBytes(dir + "/copy.ktape"))
            #expect(try readCapture(dir + "/many.ktape").0 == records)
        }
    }

    @Test func storageWithoutVectoredIOWritesPartByPart() throws {
        let storage = MemoryCaptureStorage()
        let records = Self.mixedRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage, vectoredMinPayload: 1)
        for r in records { try writer.append(r) }
        try writer.close()
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == records)
        #expect(reader.tornTail == nil)
    }

    @Test func bufferedBytesCountThePayloadsHeldInPlace() throws {
        try withTemporaryDirectory { dir in
            let writer = try CaptureWriter(path: dir + "/b.ktape", header: testHeader(), vectoredMinPayload: 1024)
            let record = frame(1, .request, ByteBuffer(repeating: 9, count: 10_000))
            try writer.append(record)
            #expect(writer.bufferedBytes == record.encodedSize)
            try writer.flush()
            #expect(writer.bufferedBytes == 0)
            try writer.close()
            #expect(try readCapture(dir + "/b.ktape").0 == [record])
        }
    }
}
