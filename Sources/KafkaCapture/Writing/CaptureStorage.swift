#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where capture segments live. `FileCaptureStorage` is the real file system; tests (and tools that
/// keep captures in memory) supply their own, e.g. one that fails with `ENOSPC` after N bytes.
/// A storage is shared with writer threads, so it is `Sendable`; the sinks and sources it returns
/// are used by one thread at a time.
public protocol CaptureStorage: AnyObject, Sendable {
    /// Creates a new segment for writing. Without `overwrite`, an existing `path` is an error
    /// (`CaptureError.Kind.fileExists`); with it, the existing file is truncated.
    func createSegment(path: String, overwrite: Bool) throws(CaptureError) -> any CaptureSegmentSink
    /// Opens a segment for reading, or returns nil when there is no such segment.
    func openSegment(path: String) throws(CaptureError) -> (any CaptureSegmentSource)?
}

/// A segment being written.
public protocol CaptureSegmentSink: AnyObject {
    /// Writes every byte or throws. On failure a prefix may have been written, which readers then
    /// see as a torn record.
    func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError)
    /// Writes every byte of `parts`, in order, or throws; files do it with `writev(2)`, so the parts
    /// need not be copied into one buffer first.
    func write(vectored parts: [UnsafeRawBufferPointer]) throws(CaptureError)
    /// Makes what was written durable (`fsync`).
    func synchronize() throws(CaptureError)
    func close() throws(CaptureError)
}

extension CaptureSegmentSink {
    /// One `write` per part, for sinks without vectored I/O.
    public func write(vectored parts: [UnsafeRawBufferPointer]) throws(CaptureError) {
        for part in parts { try write(part) }
    }
}

/// A segment being read.
public protocol CaptureSegmentSource: AnyObject {
    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int
    /// The segment's current size in bytes.
    func size() throws(CaptureError) -> Int64
    func close()
}

/// Segments as files, created with mode 0600 (captures hold whatever the clients sent, credentials
/// included).
public final class FileCaptureStorage: CaptureStorage, Sendable {
    /// The local file system.
    public init() {}

    /// Opens `path` with `O_CREAT|O_EXCL` (or `O_TRUNC` with `overwrite`), mode 0600.
    public func createSegment(path: String, overwrite: Bool) throws(CaptureError) -> any CaptureSegmentSink {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        flags |= overwrite ? O_TRUNC : O_EXCL
        let fd = retryingEINTR { open(path, flags, mode_t(0o600)) }
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST { throw CaptureError(.fileExists, path: path) }
            throw CaptureError(.io(operation: "create", errno: e), path: path)
        }
        // O_TRUNC keeps an existing file's mode; a capture is always private.
        if overwrite && fchmod(fd, mode_t(0o600)) != 0 {
            let e = errno
            // Character devices (/dev/null, /dev/full) cannot be chmod'ed by a normal user; that is fine.
            var st = stat()
            if fstat(fd, &st) != 0 || (st.st_mode & S_IFMT) == S_IFREG {
                close(fd)
                throw CaptureError(.io(operation: "chmod", errno: e), path: path)
            }
        }
        return FileSegmentSink(fd: fd, path: path)
    }

    /// Opens `path` read-only; nil when it does not exist.
    public func openSegment(path: String) throws(CaptureError) -> (any CaptureSegmentSource)? {
        let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT { return nil }
            throw CaptureError(.io(operation: "open", errno: e), path: path)
        }
        return FileSegmentSource(fd: fd, path: path)
    }
}

final class FileSegmentSink: CaptureSegmentSink {
    private var fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit {
        if fd >= 0 { _ = posixClose(fd) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = systemWrite(fd, p, left)
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw CaptureError(.io(operation: "write", errno: e), path: path)
            }
            if n == 0 { throw CaptureError(.io(operation: "write", errno: EIO), path: path) }
            p += n
            left -= n
        }
    }

    func write(vectored parts: [UnsafeRawBufferPointer]) throws(CaptureError) {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        var vecs = parts.compactMap { p in p.baseAddress.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0), iov_len: p.count) } }
        var first = 0
        while first < vecs.count {
            // IOV_MAX is 1024 on Linux and macOS.
            let count = min(1024, vecs.count - first)
            let n = vecs.withUnsafeBufferPointer { v in systemWritev(fd, v.baseAddress.map { $0 + first }, Int32(count)) }
            if n < 0 {
                let e = errno
                if e == EINTR { continue }
                throw CaptureError(.io(operation: "writev", errno: e), path: path)
            }
            if n == 0 { throw CaptureError(.io(operation: "writev", errno: EIO), path: path) }
            // A short write: skip what went out, resume inside the part it stopped in.
            var written = n
            while first < vecs.count, written >= vecs[first].iov_len {
                written -= vecs[first].iov_len
                first += 1
            }
            if written > 0, first < vecs.count, let base = vecs[first].iov_base {
                vecs[first].iov_base = base + written
                vecs[first].iov_len -= written
            }
        }
    }

    func synchronize() throws(CaptureError) {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        if fsync(fd) != 0 {
            let e = errno
            // Devices and pipes cannot be synced; nothing to make durable there.
            if e == EINVAL || e == EROFS || e == ENOTSUP { return }
            throw CaptureError(.io(operation: "fsync", errno: e), path: path)
        }
    }

    func close() throws(CaptureError) {
        guard fd >= 0 else { return }
        let rc = posixClose(fd)
        fd = -1
        // Linux releases the descriptor even when close reports EINTR; do not retry.
        if rc != 0 && errno != EINTR { throw CaptureError(.io(operation: "close", errno: errno), path: path) }
    }
}

final class FileSegmentSource: CaptureSegmentSource {
    private var fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close() }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = systemRead(fd, base, buffer.count)
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            throw CaptureError(.io(operation: "read", errno: e), path: path)
        }
    }

    func size() throws(CaptureError) -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CaptureError(.io(operation: "stat", errno: errno), path: path) }
        return Int64(st.st_size)
    }

    func close() {
        if fd >= 0 {
            _ = posixClose(fd)
            fd = -1
        }
    }
}

// The methods above shadow the C functions' names.
@inline(__always) func posixClose(_ fd: Int32) -> Int32 { close(fd) }
@inline(__always) func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
@inline(__always) func systemWritev(_ fd: Int32, _ v: UnsafePointer<iovec>?, _ n: Int32) -> Int { writev(fd, v, n) }
@inline(__always) func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> Int { read(fd, p, n) }

@inline(__always) func retryingEINTR(_ body: () -> Int32) -> Int32 {
    while true {
        let rc = body()
        if rc >= 0 || errno != EINTR { return rc }
    }
}

/// `ENOENT`, for code that reports a missing file without importing the C library.
let ENOENTCode: Int32 = ENOENT
