import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

@Suite struct CaptureWriterTests {
    @Test func fileModeIs0600() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let paths = try writeCapture(sampleRecords(), to: path, rotateBytes: 300)
            #expect(paths.count > 1)
            for p in paths {
                let attributes = try FileManager.default.attributesOfItem(atPath: p)
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(p)")
            }
        }
    }

    @Test func overwriteResetsModeTo0600() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            try writeFile(path, Array("old".utf8))
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
            let writer = try CaptureWriter(path: path, header: testHeader(), overwrite: true)
            try writer.close()
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let (records, reader) = try readCapture(path)
            #expect(records.isEmpty)
            #expect(reader.tornTail == nil)
        }
    }

    @Test func refusesToOverwriteAnExistingFile() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            try writeFile(path, Array("precious".utf8))
            #expect {
                _ = try CaptureWriter(path: path, header: testHeader())
            } throws: { error in
                (error as? CaptureError)?.kind == .fileExists && (error as? CaptureError)?.path == path
            }
            #expect(try fileBytes(path) == Array("precious".utf8))
        }
    }

    @Test func refusesUpFrontWhenTheNextSegmentExists() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            try writeFile(path + ".1", [1])
            #expect(throws: CaptureError(.fileExists, path: path + ".1")) {
                _ = try CaptureWriter(path: path, header: testHeader(), rotateBytes: 1000)
            }
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test func rotationSplitsAtRecordBoundariesAndReadsBackAsOneCapture() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            var records: [CaptureRecord] = []
            for i in 0..<2_000 {
                let payload = ByteBuffer(repeating: UInt8(truncatingIfNeeded: i), count: i % 700)
                records.append(frame(UInt64(i % 7), i % 2 == 0 ? .request : .response, payload, at: UInt64(i)))
            }
            let rotate = 16 * 1024
            let writer = try CaptureWriter(path: path, header: testHeader(), rotateBytes: rotate, bufferSize: 8192)
            for r in records { try writer.append(r) }
            try writer.close()
            let paths = writer.segmentPaths
            #expect(paths.count > 10)
            #expect(paths[0] == path && paths[1] == path + ".1" && paths[2] == path + ".2")
            var total: Int64 = 0
            for (i, p) in paths.enumerated() {
                let size = try fileBytes(p).count
                total += Int64(size)
                #expect(size <= rotate, "segment \(i) is \(size) bytes")
                let reader = try CaptureReader(path: p, followSegments: false)
                #expect(reader.header.segmentIndex == UInt32(i))
                #expect(reader.header.captureId == testHeader().captureId)
                _ = try reader.readAll()
                #expect(reader.tornTail == nil)
            }
            #expect(total == writer.bytesWritten)

            let (read, reader) = try readCapture(path)
            #expect(read == records)
            #expect(reader.segmentPaths == paths)
            #expect(reader.tornTail == nil)
            #expect(reader.ignoredSegment == nil)

            // Opened on a later segment, the reader continues from there.
            let (fromThird, _) = try readCapture(paths[2])
            #expect(fromThird.count < records.count && fromThird.last == records.last)
        }
    }

    @Test func oversizedRecordGetsASegmentOfItsOwn() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), rotateBytes: 1000, storage: storage)
        try writer.append(frame(1, .request, ByteBuffer(repeating: 1, count: 10)))
        try writer.append(frame(1, .request, ByteBuffer(repeating: 2, count: 5000)))
        try writer.append(frame(1, .request, ByteBuffer(repeating: 3, count: 10)))
        try writer.close()
        #expect(writer.segmentPaths == ["m", "m.1", "m.2"])
        let (read, _) = try readCapture("m", storage: storage)
        #expect(read.count == 3)
    }

    @Test func staleSegmentFromAnotherCaptureIsNotFollowed() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            // An older capture that rotated...
            let old = try CaptureWriter(
                path: path, header: testHeader(captureId: CaptureID(high: 9, low: 9)), rotateBytes: 200)
            for r in sampleRecords() { try old.append(r) }
            try old.close()
            #expect(old.segmentPaths.count > 2)
            // ...replaced by a newer one that did not.
            let writer = try CaptureWriter(path: path, header: testHeader(), overwrite: true)
            try writer.append(sampleRecords()[0])
            try writer.close()
            let (read, reader) = try readCapture(path)
            #expect(read == [sampleRecords()[0]])
            let ignored = try #require(reader.ignoredSegment)
            #expect(ignored.path == path + ".1")
            #expect(ignored.reason.contains("capture id"))
            #expect(reader.tornTail == nil)
        }
    }

    @Test func bytesWrittenCountsHeaderAndRecords() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        let headerSize = Int64(testHeader().encodedFileHeader().readableBytes)
        #expect(writer.bytesWritten == headerSize)
        // The header is written at once, unbuffered.
        #expect(Int64(storage.contents(of: "m")?.readableBytes ?? 0) == headerSize)
        var expected = headerSize
        for r in sampleRecords() {
            try writer.append(r)
            expected += Int64(r.encodedSize)
        }
        #expect(writer.bytesWritten == expected)
        #expect(writer.bufferedBytes == Int(expected - headerSize))
        try writer.flush()
        #expect(writer.bufferedBytes == 0)
        #expect(Int64(storage.contents(of: "m")?.readableBytes ?? 0) == expected)
        try writer.close()
        try writer.close()  // idempotent
        #expect(throws: CaptureError(.closed, path: "m")) { try writer.append(sampleRecords()[0]) }
    }

    @Test func bufferIsWrittenWhenFull() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), bufferSize: 4096, storage: storage)
        let headerSize = testHeader().encodedFileHeader().readableBytes
        for _ in 0..<100 { try writer.append(frame(1, .request, ByteBuffer(repeating: 0, count: 100))) }
        let onDisk = (storage.contents(of: "m")?.readableBytes ?? 0) - headerSize
        #expect(onDisk > 0)
        #expect(writer.bufferedBytes <= 4096)
        #expect(onDisk + writer.bufferedBytes == Int(writer.bytesWritten) - headerSize)
        try writer.close()
    }

    @Test func writeErrorFailsTheWriterAndKeepsEarlierDataReadable() throws {
        // A "disk" that fills up 2 KiB into the capture, as ENOSPC does.
        let storage = MemoryCaptureStorage(capacity: 2048)
        let writer = try CaptureWriter(path: "m", header: testHeader(), bufferSize: 4096, storage: storage)
        var appended: [CaptureRecord] = []
        var thrown: CaptureError?
        for i in 0..<100 {
            let r = frame(1, .request, ByteBuffer(repeating: UInt8(i), count: 100), at: UInt64(i))
            do {
                try writer.append(r)
                try writer.flush()
                appended.append(r)
            } catch {
                thrown = error
                break
            }
        }
        let error = try #require(thrown)
        #expect(error.errno == ENOSPC)
        #expect(writer.failure == error)
        #expect(throws: CaptureError.self) { try writer.append(sampleRecords()[0]) }
        #expect(throws: error) { try writer.close() }

        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == appended)
        let tail = try #require(reader.tornTail)
        #expect(tail.kind == .interruptedWrite)
        #expect(tail.offset + tail.bytesDiscarded == 2048)
    }

    @Test func devFullReportsENOSPC() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        // The header is the first write, so creating a capture on /dev/full fails at once.
        #expect {
            _ = try CaptureWriter(path: "/dev/full", header: testHeader(), overwrite: true)
        } throws: { error in
            (error as? CaptureError)?.errno == ENOSPC
        }
    }
}
