#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOCore
import Testing

@testable import KafkaCapture
@testable import KafkaTapeTestSupport

/// Segments allocate their blocks ahead of the writes (`FileCaptureStorage.preallocate`) without it
/// showing: while the capture is written its size is what was written (a reader of the live file sees
/// no blocks ahead), the file is byte for byte the one written without preallocation, and closing
/// gives back what was allocated past the end.
@Suite struct PreallocationTests {
    static func stat(_ path: String) -> (size: Int, allocated: Int) {
        var st = Glibc.stat()
        guard lstat(path, &st) == 0 else { return (-1, -1) }
        return (Int(st.st_size), Int(st.st_blocks) * 512)
    }

    /// Whether `fallocate(FALLOC_FL_KEEP_SIZE)` works in `dir` (ZFS, for one, refuses it).
    static func fileSystemPreallocates(_ dir: String) -> Bool {
        let path = dir + "/probe"
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        defer {
            close(fd)
            unlink(path)
        }
        return fd >= 0 && Preallocation.fallocate?(fd, Preallocation.keepSize, 0, 4096) == 0
    }

    @Test func preallocatedSegmentsAreTheSameFilesAndGiveBackWhatIsLeft() throws {
        try withTemporaryDirectory { dir in
            let records = VectoredWriteTests.mixedRecords()
            let plain = dir + "/plain.ktape"
            let ahead = dir + "/ahead.ktape"
            var writers: [CaptureWriter] = []
            for (path, prealloc) in [(plain, false), (ahead, true)] {
                let writer = try CaptureWriter(
                    path: path, header: testHeader(), bufferSize: 64 * 1024, storage: FileCaptureStorage(preallocate: prealloc))
                for r in records { try writer.append(r) }
                try writer.flush()
                writers.append(writer)
            }
            // Open and flushed: the size is what was written, though more is allocated.
            let live = Self.stat(ahead)
            #expect(live.size == Int(writers[1].bytesWritten))
            #expect(live.size == Self.stat(plain).size)
            // At least 1 MiB ahead was asked for, and the file is about 1.3 MB: about 2 MB allocated
            // (ext4, XFS, btrfs and tmpfs preallocate; where the file system cannot, nothing is).
            if Self.fileSystemPreallocates(dir) {
                #expect(live.allocated > live.size + 256 * 1024, "nothing allocated ahead: \(live)")
            }
            let (read, reader) = try readCapture(ahead)
            #expect(read == records)
            #expect(reader.tornTail == nil)
            for w in writers { try w.close() }
            #expect(try fileBytes(ahead) == fileBytes(plain))
            let closed = Self.stat(ahead)
            #expect(closed.allocated <= closed.size + 64 * 1024, "the blocks ahead were not given back: \(closed)")
        }
    }

    /// Rotated segments, each preallocated, read back whole; none keeps its blocks ahead once closed.
    @Test func rotatedSegmentsArePreallocatedAndTrimmed() throws {
        try withTemporaryDirectory { dir in
            let records = VectoredWriteTests.mixedRecords()
            let writer = try CaptureWriter(
                path: dir + "/rot.ktape", header: testHeader(), rotateBytes: 300_000, storage: FileCaptureStorage(preallocate: true))
            for r in records { try writer.append(r) }
            try writer.close()
            #expect(writer.segmentPaths.count > 2)
            for path in writer.segmentPaths {
                let s = Self.stat(path)
                #expect(s.allocated <= s.size + 64 * 1024, "\(path): \(s)")
            }
            #expect(try readCapture(dir + "/rot.ktape").0 == records)
        }
    }
}
