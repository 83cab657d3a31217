#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

/// Segments start the write-back of what they wrote and drop it from the page cache a chunk behind
/// (`FileCaptureStorage.dropBehind`), without changing a byte of the file.
@Suite struct DropBehindTests {
    /// Fractions of the pages of `path` in [from, to) that are in the page cache (`mincore(2)`).
    static func resident(_ path: String, from: Int, to: Int) throws -> Double {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TestFailure("open \(path): errno \(errno)") }
        defer { close(fd) }
        guard let map = mmap(nil, to - from, PROT_READ, MAP_SHARED, fd, off_t(from)), map != MAP_FAILED else {
            throw TestFailure("mmap \(path): errno \(errno)")
        }
        defer { munmap(map, to - from) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var vector = [UInt8](repeating: 0, count: (to - from + page - 1) / page)
        guard mincore(map, to - from, &vector) == 0 else { throw TestFailure("mincore: errno \(errno)") }
        return Double(vector.filter { $0 & 1 != 0 }.count) / Double(vector.count)
    }

    /// Whether the file system in `dir` gives pages back on `POSIX_FADV_DONTNEED` once they are on disk
    /// (tmpfs, which keeps files in the page cache by definition, does not).
    static func dropsCleanPages(_ dir: String) throws -> Bool {
        let path = dir + "/probe"
        let fd = open(path, O_CREAT | O_RDWR, 0o600)
        guard fd >= 0 else { return false }
        defer { unlink(path) }
        let bytes = [UInt8](repeating: 7, count: 1 << 20)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        _ = fsync(fd)
        _ = posix_fadvise(fd, 0, off_t(bytes.count), Int32(POSIX_FADV_DONTNEED))
        close(fd)
        return written == bytes.count ? try resident(path, from: 0, to: bytes.count) < 0.5 : false
    }

    /// 24 MiB of frames: the file is the same with and without dropping, and with it the first 16 MiB
    /// (more than one chunk behind the last write-back) have left the page cache while the last
    /// chunk, written moments ago, is still in it (which shows that `mincore` sees the cache).
    @Test func writtenChunksLeaveThePageCacheAndTheFileIsUnchanged() throws {
        try withTemporaryDirectory { dir in
            var payload = ByteBuffer()
            payload.writeBytes((0..<60_000).map { UInt8(truncatingIfNeeded: $0 &* 131) })
            var records: [CaptureRecord] = []
            for i in 0..<420 {
                let direction: FrameDirection = i % 2 == 0 ? .request : .response
                records.append(frame(UInt64(i % 3), direction, payload, at: UInt64(i)))
            }
            var writers: [CaptureWriter] = []
            for (name, drop) in [("plain", false), ("dropped", true)] {
                let writer = try CaptureWriter(
                    path: dir + "/\(name).ktape", header: testHeader(), storage: FileCaptureStorage(dropBehind: drop))
                for r in records { try writer.append(r) }
                try writer.flush()
                writers.append(writer)
            }
            let size = Int(writers[1].bytesWritten)
            #expect(size > 24 << 20)
            if try Self.dropsCleanPages(dir) {
                let head = try Self.resident(dir + "/dropped.ktape", from: 0, to: 16 << 20)
                #expect(head < 0.05, "\(Int(head * 100))% of the first 16 MiB still cached")
                let tailStart = (size - (2 << 20)) & ~4095
                let tail = try Self.resident(dir + "/dropped.ktape", from: tailStart, to: size)
                #expect(tail > 0.5, "the last writes are not in the cache (\(Int(tail * 100))%): mincore sees nothing")
            }
            for w in writers { try w.close() }
            #expect(try fileBytes(dir + "/dropped.ktape") == fileBytes(dir + "/plain.ktape"))
            let (read, reader) = try readCapture(dir + "/dropped.ktape")
            #expect(read == records)
            #expect(reader.tornTail == nil)
        }
    }
}
