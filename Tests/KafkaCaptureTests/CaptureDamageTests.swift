import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

/// Damage in real captures (the curated ones under captures/): a bit flip anywhere in the middle
/// costs exactly the record it hit.
@Suite struct CaptureDamageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var curated: [String] {
        let dir = root.appendingPathComponent("captures").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted().map { "\(dir)/\($0)/session.ktape" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    @Test func curatedCapturesArePresent() {
        #expect(Self.curated.count >= 1)
    }

    @Test(arguments: curated)
    func bitFlipInTheMiddleOfARealCaptureIsReadPast(_ path: String) throws {
        let reader = try CaptureReader(path: path)
        var records: [CaptureRecord] = []
        var positions: [Int64] = []
        while let r = try reader.next() {
            records.append(r)
            positions.append(reader.lastRecordPosition?.offset ?? -1)
        }
        #expect(reader.tornTail == nil)
        try #require(records.count >= 3)
        let victim = records.count / 2
        let recordStart = Int(positions[victim])
        let flip = recordStart + CaptureFormat.recordHeaderSize + records[victim].encodedBodySize / 2
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[flip] ^= 0x04
        let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("flip-\(UUID().uuidString).ktape").path
        defer { try? FileManager.default.removeItem(atPath: damaged) }
        try Data(bytes).write(to: URL(fileURLWithPath: damaged))

        let after = try CaptureReader(path: damaged)
        let read = try after.readAll()
        var expected = records
        expected.remove(at: victim)
        #expect(read == expected)
        #expect(after.tornTail == nil)
        #expect(after.corruptSpanCount == 1)
        let span = try #require(after.corruptSpans.first)
        #expect(span.offset == Int64(recordStart))
        #expect(span.length == Int64(records[victim].encodedSize))
    }

    /// Garbage in the middle (a block overwritten with random bytes, several records long): reading
    /// resumes at the first record after it.
    @Test func overwrittenBlockIsOneSpan() throws {
        try withTemporaryDirectory { dir in
            let path = dir + "/cap.ktape"
            var records: [CaptureRecord] = []
            for i in 0..<200 {
                records.append(frame(1, i % 2 == 0 ? .request : .response, ByteBuffer(repeating: UInt8(i & 0xFF), count: 100 + i), at: UInt64(i)))
            }
            try writeCapture(records, to: path)
            var bytes = try fileBytes(path)
            let headerSize = testHeader().encodedFileHeader().readableBytes
            var offsets: [Int] = [headerSize]
            for r in records { offsets.append((offsets.last ?? 0) + r.encodedSize) }
            // From the middle of record 50 to the middle of record 60.
            let from = offsets[50] + 30
            let to = offsets[60] + 30
            var rng = SystemRandomNumberGenerator()
            for i in from..<to { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            try writeFile(path, bytes)
            let (read, reader) = try readCapture(path)
            #expect(Array(read[0..<50]) == Array(records[0..<50]))
            #expect(Array(read[50...]) == Array(records[61...]))
            #expect(reader.corruptSpanCount == 1)
            #expect(reader.corruptSpans.first?.offset == Int64(offsets[50]))
            #expect(reader.corruptSpans.first?.length == Int64(offsets[61] - offsets[50]))
        }
    }
}
