#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// Segments held in memory, keyed by path: captures for tests, replay and diff without a file
/// system. With a `capacity`, writes beyond it fail with `ENOSPC` after writing what fits, as a full
/// disk does. Thread-safe.
public final class MemoryCaptureStorage: CaptureStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: ByteBuffer] = [:]
    private var used = 0
    /// Total bytes all segments may hold, or nil for no limit.
    public let capacity: Int?

    /// An empty storage holding at most `capacity` bytes over all segments.
    public init(capacity: Int? = nil) {
        self.capacity = capacity
    }

    /// The bytes of the segment at `path`, or nil when there is none.
    public func contents(of path: String) -> ByteBuffer? {
        lock.withLock { files[path] }
    }

    /// Replaces (or creates) the segment at `path`, e.g. to truncate or corrupt it in a test.
    public func setContents(_ bytes: ByteBuffer, of path: String) {
        lock.withLock {
            used += bytes.readableBytes - (files[path]?.readableBytes ?? 0)
            files[path] = bytes
        }
    }

    /// Deletes the segment at `path`, if there is one.
    public func remove(_ path: String) {
        lock.withLock {
            used -= files.removeValue(forKey: path)?.readableBytes ?? 0
        }
    }

    /// Every segment path, sorted.
    public var paths: [String] {
        lock.withLock { files.keys.sorted() }
    }

    /// Creates an empty segment; `fileExists` when there is one and `overwrite` is not set.
    public func createSegment(path: String, overwrite: Bool) throws(CaptureError) -> any CaptureSegmentSink {
        let exists = lock.withLock { () -> Bool in
            if files[path] != nil && !overwrite { return true }
            used -= files[path]?.readableBytes ?? 0
            files[path] = ByteBuffer()
            return false
        }
        if exists { throw CaptureError(.fileExists, path: path) }
        return Sink(storage: self, path: path)
    }

    /// A reader over a snapshot of the segment's bytes; nil when there is none.
    public func openSegment(path: String) throws(CaptureError) -> (any CaptureSegmentSource)? {
        guard let bytes = contents(of: path) else { return nil }
        return Source(bytes: bytes)
    }

    /// Appends what fits; returns how many bytes did.
    fileprivate func append(_ bytes: UnsafeRawBufferPointer, to path: String) -> Int {
        lock.withLock {
            let room = capacity.map { max(0, $0 - used) } ?? bytes.count
            let n = min(room, bytes.count)
            files[path, default: ByteBuffer()].writeBytes(UnsafeRawBufferPointer(rebasing: bytes[0..<n]))
            used += n
            return n
        }
    }

    private final class Sink: CaptureSegmentSink {
        let storage: MemoryCaptureStorage
        let path: String
        var closed = false

        init(storage: MemoryCaptureStorage, path: String) {
            self.storage = storage
            self.path = path
        }

        func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
            guard !closed else { throw CaptureError(.closed, path: path) }
            if storage.append(bytes, to: path) < bytes.count {
                throw CaptureError(.io(operation: "write", errno: ENOSPC), path: path)
            }
        }

        func synchronize() throws(CaptureError) {}
        func close() throws(CaptureError) { closed = true }
    }

    private final class Source: CaptureSegmentSource {
        var bytes: ByteBuffer
        let all: ByteBuffer
        let total: Int64

        init(bytes: ByteBuffer) {
            self.bytes = bytes
            self.all = bytes
            self.total = Int64(bytes.readableBytes)
        }

        func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int {
            guard offset >= 0, offset < total else { return 0 }
            let n = min(buffer.count, Int(total - offset))
            all.withUnsafeReadableBytes { raw in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[Int(offset)..<(Int(offset) + n)]))
            }
            return n
        }

        func seek(to offset: Int64) throws(CaptureError) {
            bytes = all
            bytes.moveReaderIndex(forwardBy: Int(max(0, min(offset, total))))
        }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int {
            let n = min(buffer.count, bytes.readableBytes)
            guard n > 0 else { return 0 }
            bytes.readWithUnsafeReadableBytes { raw in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<n]))
                return n
            }
            return n
        }

        func size() throws(CaptureError) -> Int64 { total }
        func close() {}
    }
}
