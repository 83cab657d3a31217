import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

@Suite struct CaptureReaderRecoveryTests {
    /// The kill -9 case: the file ends somewhere inside the last record. Every cut point returns all
    /// earlier records and reports the tail, on a real file.
    @Test func tornTailAtEveryCutPointOfTheLastRecord() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let records = sampleRecords()
            try writeCapture(records, to: path)
            let full = try fileBytes(path)
            let lastSize = records[records.count - 1].encodedSize
            let lastStart = full.count - lastSize
            for cut in lastStart..<full.count {
                let torn = dir + "/torn-\(cut).ktape"
                try writeFile(torn, Array(full[0..<cut]))
                let (read, reader) = try readCapture(torn)
                #expect(read == Array(records.dropLast()), "cut at \(cut)")
                if cut == lastStart {
                    #expect(reader.tornTail == nil, "a cut between records is a clean end")
                    continue
                }
                let tail = try #require(reader.tornTail, "cut at \(cut)")
                #expect(tail.offset == Int64(lastStart))
                #expect(tail.bytesDiscarded == Int64(cut - lastStart))
                #expect(tail.kind == .interruptedWrite)
                #expect(tail.segmentIndex == 0 && tail.path == torn)
                #expect(tail.recordsBefore == records.count - 1)
                switch tail.reason {
                case .truncatedRecordHeader(let available): #expect(cut - lastStart < 9 && available == cut - lastStart)
                case .truncatedRecordBody(let declared, let available):
                    #expect(declared == lastSize - 9 && available == cut - lastStart - 9)
                default: Issue.record("cut at \(cut): unexpected reason \(tail.reason)")
                }
                try FileManager.default.removeItem(atPath: torn)
            }
        }
    }

    /// Every prefix of a whole capture: before the header is complete the reader refuses the file;
    /// after it, it returns exactly the records that fit.
    @Test func everyPrefixOfACapture() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        let full = try #require(storage.contents(of: "m"))
        let headerSize = testHeader().encodedFileHeader().readableBytes
        var boundaries = [headerSize]
        for r in records { boundaries.append((boundaries.last ?? 0) + r.encodedSize) }
        #expect(boundaries.last == full.readableBytes)
        for cut in 0..<full.readableBytes {
            storage.setContents(full.getSlice(at: 0, length: cut) ?? ByteBuffer(), of: "m")
            if cut < headerSize {
                #expect(throws: CaptureError.self, "cut at \(cut)") { _ = try CaptureReader(path: "m", storage: storage) }
                continue
            }
            let (read, reader) = try readCapture("m", storage: storage)
            let complete = boundaries.lastIndex { $0 <= cut } ?? 0
            #expect(read == Array(records[0..<complete]), "cut at \(cut)")
            #expect((reader.tornTail == nil) == boundaries.contains(cut), "cut at \(cut)")
        }
    }

    /// A bit flip in a record with records after it: that record is skipped, reading resumes at the
    /// next one, and the span is reported; no torn tail.
    @Test func checksumMismatchMidFileIsSkippedAndReadPast() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let headerSize = testHeader().encodedFileHeader().readableBytes
        let badStart = headerSize + records[0..<3].reduce(0) { $0 + $1.encodedSize }
        // Flip one bit in the body of record 3 (its 20th byte).
        let at = badStart + 20
        file.setInteger((file.getInteger(at: at, as: UInt8.self) ?? 0) ^ 0x10, at: at)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        var expected = records
        expected.remove(at: 3)
        #expect(read == expected)
        #expect(reader.tornTail == nil)
        #expect(reader.corruptSpanCount == 1)
        let span = try #require(reader.corruptSpans.first)
        #expect(span.offset == Int64(badStart))
        #expect(span.length == Int64(records[3].encodedSize))
        #expect(span.resumedInSegment)
        guard case .checksumMismatch(let stored, let computed) = span.reason else {
            Issue.record("unexpected reason \(span.reason)")
            return
        }
        #expect(stored != computed)
        #expect(span.description.contains("corruption at offset \(badStart)"))
        #expect(span.description.contains("skipped \(records[3].encodedSize) bytes, resumed at offset \(badStart + records[3].encodedSize)"))
    }

    @Test func checksumMismatchInTheLastRecordIsATornTail() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let last = file.readableBytes - 1
        file.setInteger((file.getInteger(at: last, as: UInt8.self) ?? 0) ^ 0xFF, at: last)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == Array(records.dropLast()))
        let tail = try #require(reader.tornTail)
        #expect(tail.kind == .interruptedWrite)
    }

    /// After a power loss, file systems can leave a file extended with zeros where data never landed.
    @Test func zeroFilledTailIsAnInterruptedWrite() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let end = file.readableBytes
        file.writeRepeatingByte(0, count: 10_000)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == records)
        let tail = try #require(reader.tornTail)
        #expect(tail.kind == .interruptedWrite)
        #expect(tail.offset == Int64(end))
        #expect(tail.bytesDiscarded == 10_000)
    }

    /// A record whose body never landed (zeros where its bytes should be), with the file extended by
    /// more zeros after it.
    @Test func partlyWrittenRecordFollowedByZerosIsAnInterruptedWrite() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records.dropLast() { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let end = file.readableBytes
        let last = try records[records.count - 1].encoded()
        file.writeImmutableBuffer(last.getSlice(at: 0, length: 12) ?? ByteBuffer())
        file.writeRepeatingByte(0, count: 4096)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == Array(records.dropLast()))
        let tail = try #require(reader.tornTail)
        #expect(tail.kind == .interruptedWrite)
        #expect(tail.offset == Int64(end))
        guard case .checksumMismatch = tail.reason else {
            Issue.record("unexpected reason \(tail.reason)")
            return
        }
    }

    /// A length field damaged to an absurd value: the record is skipped (nothing allocated for it),
    /// the rest is read.
    @Test func absurdLengthMidFileIsSkipped() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let headerSize = testHeader().encodedFileHeader().readableBytes
        file.setInteger(UInt32(0xFFFF_FFF0), at: headerSize + records[0].encodedSize)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == [records[0]] + records[2...])
        #expect(reader.tornTail == nil)
        let span = try #require(reader.corruptSpans.first)
        guard case .recordTooLarge = span.reason else {
            Issue.record("unexpected reason \(span.reason)")
            return
        }
    }

    /// A length that fits the format's limit but not the file (a 1 GiB claim in a small file) is
    /// checked against the bytes that remain before anything is buffered for it.
    @Test func lengthBeyondTheFileMidFileIsSkipped() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let headerSize = testHeader().encodedFileHeader().readableBytes
        file.setInteger(UInt32(1 << 30), at: headerSize + records[0].encodedSize)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == [records[0]] + records[2...])
        let span = try #require(reader.corruptSpans.first)
        guard case .truncatedRecordBody(let declared, _) = span.reason else {
            Issue.record("unexpected reason \(span.reason)")
            return
        }
        #expect(declared == 1 << 30)
    }

    /// The same claim in the last record is a torn tail (nothing intact follows).
    @Test func lengthBeyondTheFileAtTheEndIsATornTail() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        var file = try #require(storage.contents(of: "m"))
        let lastStart = file.readableBytes - records[records.count - 1].encodedSize
        file.setInteger(UInt32(1 << 30), at: lastStart)
        storage.setContents(file, of: "m")
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(read == Array(records.dropLast()))
        #expect(reader.corruptSpanCount == 0)
        let tail = try #require(reader.tornTail)
        #expect(tail.kind == .interruptedWrite)
        #expect(tail.offset == Int64(lastStart))
    }

    /// A torn record at the end of a segment that has a successor: the rest of that segment is a
    /// corrupt span and reading goes on in the next segment.
    @Test func tornTailInAnEarlierSegmentIsSkippedToTheNextSegment() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), rotateBytes: 400, storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        #expect(writer.segmentPaths.count >= 3)
        var first = try #require(storage.contents(of: "m"))
        first.moveWriterIndex(to: first.writerIndex - 3)
        storage.setContents(first, of: "m")
        let firstSegment = try readCapture("m", storage: { () -> MemoryCaptureStorage in
            let only = MemoryCaptureStorage()
            only.setContents(first, of: "m")
            return only
        }())
        let (read, reader) = try readCapture("m", storage: storage)
        #expect(reader.tornTail == nil)
        let span = try #require(reader.corruptSpans.first)
        #expect(span.segmentIndex == 0)
        #expect(!span.resumedInSegment)
        // Everything but segment 0's last record.
        var expected = records
        expected.remove(at: firstSegment.0.count)
        #expect(read == expected)
        #expect(reader.segmentPaths.count == writer.segmentPaths.count)
    }

    @Test func truncatedHeaderOfTheNextSegmentIsATornTail() throws {
        let storage = MemoryCaptureStorage()
        let records = sampleRecords()
        let writer = try CaptureWriter(path: "m", header: testHeader(), rotateBytes: 400, storage: storage)
        for r in records { try writer.append(r) }
        try writer.close()
        let paths = writer.segmentPaths
        #expect(paths.count >= 3)
        // The writer died while creating segment 2.
        let second = try #require(storage.contents(of: paths[2]))
        storage.setContents(second.getSlice(at: 0, length: 11) ?? ByteBuffer(), of: paths[2])
        for p in paths.dropFirst(3) { storage.remove(p) }
        let reader0 = try CaptureReader(path: "m", storage: storage, chunkSize: 4096)
        var count = 0
        while try reader0.next() != nil { count += 1 }
        let tail = try #require(reader0.tornTail)
        #expect(tail.segmentIndex == 2)
        #expect(tail.reason == .truncatedFileHeader(available: 11))
        #expect(tail.kind == .interruptedWrite)
        #expect(count == reader0.recordCount && count > 0 && count < records.count)
    }

    @Test func notACaptureHasAOneLineError() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/notes.txt"
            try writeFile(path, Array("hello, this is not a capture\n".utf8))
            #expect {
                _ = try CaptureReader(path: path)
            } throws: { error in
                guard let e = error as? CaptureError else { return false }
                return e.message == "not a KafkaTape capture: bad magic at offset 0"
                    && e.description == "\(path): not a KafkaTape capture: bad magic at offset 0"
            }
        }
    }

    @Test func textModeTransferIsRecognised() throws {
        let storage = MemoryCaptureStorage()
        try CaptureWriter(path: "m", header: testHeader(), storage: storage).close()
        var bytes = Array(try #require(storage.contents(of: "m")).readableBytesView)
        bytes.remove(at: 5)  // CR LF -> LF
        storage.setContents(ByteBuffer(bytes: bytes), of: "m")
        #expect {
            _ = try CaptureReader(path: "m", storage: storage)
        } throws: { error in
            guard let e = error as? CaptureError, case .notACapture(let reason) = e.kind else { return false }
            return reason.hasPrefix("bad magic at offset 5") && reason.contains("text-mode")
        }
    }

    @Test func unsupportedVersionIsRefused() throws {
        let storage = MemoryCaptureStorage()
        try CaptureWriter(path: "m", header: testHeader(), storage: storage).close()
        var file = try #require(storage.contents(of: "m"))
        file.setInteger(UInt16(2), at: 8)
        storage.setContents(file, of: "m")
        #expect {
            _ = try CaptureReader(path: "m", storage: storage)
        } throws: { error in
            guard let e = error as? CaptureError else { return false }
            return e.kind == .unsupportedVersion(found: 2, supported: 1)
                && e.message == "unsupported capture format version 2 (this build reads version 1)"
        }
    }

    @Test func headerProblemsAreTypedErrors() throws {
        let storage = MemoryCaptureStorage()
        try CaptureWriter(path: "m", header: testHeader(), storage: storage).close()
        let good = try #require(storage.contents(of: "m"))

        storage.setContents(ByteBuffer(), of: "m")
        #expect(throws: CaptureError(.notACapture(reason: "empty file"), path: "m", offset: 0)) {
            _ = try CaptureReader(path: "m", storage: storage)
        }

        storage.setContents(good.getSlice(at: 0, length: 12) ?? ByteBuffer(), of: "m")
        #expect(throws: CaptureError(.truncatedHeader(needed: 18, available: 12), path: "m")) {
            _ = try CaptureReader(path: "m", storage: storage)
        }

        var corrupt = good
        corrupt.setInteger(UInt8(0x7A), at: 30)
        storage.setContents(corrupt, of: "m")
        #expect {
            _ = try CaptureReader(path: "m", storage: storage)
        } throws: { error in
            guard let e = error as? CaptureError, case .corruptHeader(let why) = e.kind else { return false }
            return why.contains("CRC mismatch")
        }

        #expect {
            _ = try CaptureReader(path: "/nonexistent/capture.ktape")
        } throws: { error in
            (error as? CaptureError)?.errno == ENOENT
        }
    }

    @Test func largeRecordsSpanReadChunks() throws {
        let storage = MemoryCaptureStorage()
        let writer = try CaptureWriter(path: "m", header: testHeader(), storage: storage)
        var records: [CaptureRecord] = []
        for i in 0..<20 {
            let r = frame(1, .response, ByteBuffer(repeating: UInt8(i), count: 3000 + i * 1500), at: UInt64(i))
            records.append(r)
            try writer.append(r)
        }
        try writer.close()
        let reader = try CaptureReader(path: "m", storage: storage, chunkSize: 4096)
        #expect(try reader.readAll() == records)
        #expect(reader.tornTail == nil)
    }
}
