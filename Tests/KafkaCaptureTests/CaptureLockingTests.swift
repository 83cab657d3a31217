import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

/// One writer per capture path (flock), and a first segment that replaces nothing until published.
/// Two processes are tested end to end in CommandLineSafetyTests; flock locks belong to an open file
/// description, so two writers in one process conflict the same way.
@Suite struct CaptureLockingTests {
    @Test func aSecondWriterIsRefusedWithOrWithoutOverwrite() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let first = try CaptureWriter(path: path, header: testHeader())
            for overwrite in [false, true] {
                for publishLater in [false, true] {
                    let error = #expect(throws: CaptureError.self) {
                        _ = try CaptureWriter(path: path, header: testHeader(), overwrite: overwrite, publishLater: publishLater)
                    }
                    let expected: CaptureError.Kind = overwrite ? .locked : (publishLater ? .locked : .fileExists)
                    #expect(error?.kind == expected, "overwrite \(overwrite), publishLater \(publishLater)")
                }
            }
            try first.append(sampleRecords()[0])
            try first.close()
            // The first writer's capture is intact.
            let (read, reader) = try readCapture(path)
            #expect(read == [sampleRecords()[0]])
            #expect(reader.tornTail == nil)
            // Closed: free to replace.
            let second = try CaptureWriter(path: path, header: testHeader(), overwrite: true)
            try second.close()
            #expect(try readCapture(path).0.isEmpty)
        }
    }

    @Test func rotatedSegmentsAreLockedToo() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let writer = try CaptureWriter(path: path, header: testHeader(), rotateBytes: 400)
            for r in sampleRecords() { try writer.append(r) }
            try writer.flush()
            let current = try #require(writer.segmentPaths.last)
            #expect(current != path)
            let error = #expect(throws: CaptureError.self) { _ = try FileCaptureStorage().createSegment(path: current, overwrite: true) }
            #expect(error?.kind == .locked)
            // The first segment stays claimed after the writer moved on from it.
            let first = #expect(throws: CaptureError.self) { _ = try CaptureWriter(path: path, header: testHeader(), overwrite: true, publishLater: true) }
            #expect(first?.kind == .locked)
            try writer.close()
            // Closed: every segment is free again.
            try FileCaptureStorage().createSegment(path: path, overwrite: true).close()
        }
    }

    @Test func anUnpublishedCaptureLeavesTheOldOneAndNothingElse() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            try writeCapture([sampleRecords()[0]], to: path)
            let before = try fileBytes(path)
            let writer = try CaptureWriter(path: path, header: testHeader(captureId: CaptureID(high: 9, low: 9)), overwrite: true, publishLater: true)
            try writer.append(sampleRecords()[1])
            try writer.flush()
            #expect(try fileBytes(path) == before, "the old capture is untouched before publishing")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).count == 2, "the old capture and the staged one")
            try writer.close()
            #expect(try fileBytes(path) == before)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cap.ktape"])
        }
    }

    @Test func anUnpublishedCaptureWithoutAnOldOneLeavesNothing() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let writer = try CaptureWriter(path: path, header: testHeader(), publishLater: true)
            try writer.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
            // And a retry is not refused with "file exists".
            let retry = try CaptureWriter(path: path, header: testHeader(), publishLater: true)
            try retry.staging.publish()
            try retry.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cap.ktape"])
        }
    }

    @Test func publishingReplacesTheOldCaptureAtOnce() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            try writeCapture([sampleRecords()[0]], to: path)
            let newId = CaptureID(high: 7, low: 7)
            let writer = try CaptureWriter(path: path, header: testHeader(captureId: newId), overwrite: true, publishLater: true)
            try writer.append(sampleRecords()[1])
            try writer.staging.publish()
            try writer.append(sampleRecords()[2])
            try writer.close()
            let (read, reader) = try readCapture(path)
            #expect(reader.header.captureId == newId)
            #expect(read == Array(sampleRecords()[1...2]))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cap.ktape"])
        }
    }

    /// Without --overwrite, a file that appeared while the capture was staged is not replaced.
    @Test func publishingWithoutOverwriteNeverReplaces() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let writer = try CaptureWriter(path: path, header: testHeader(), publishLater: true)
            try writeFile(path, [1, 2, 3])
            let error = #expect(throws: CaptureError.self) { try writer.staging.publish() }
            #expect(error?.kind == .fileExists)
            try? writer.close()
            #expect(try fileBytes(path) == [1, 2, 3])
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cap.ktape"])
        }
    }

    /// Two staged writers with --overwrite: the one that publishes second finds the first one's live
    /// capture and is refused, instead of replacing it.
    @Test func theSecondOfTwoStagedWritersCannotReplaceTheFirst() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            let a = try CaptureWriter(path: path, header: testHeader(captureId: CaptureID(high: 1, low: 1)), overwrite: true, publishLater: true)
            let b = try CaptureWriter(path: path, header: testHeader(captureId: CaptureID(high: 2, low: 2)), overwrite: true, publishLater: true)
            try a.staging.publish()
            let error = #expect(throws: CaptureError.self) { try b.staging.publish() }
            #expect(error?.kind == .locked)
            try? b.close()
            try a.close()
            #expect(try CaptureReader(path: path).header.captureId == CaptureID(high: 1, low: 1))
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["cap.ktape"])
        }
    }
}
