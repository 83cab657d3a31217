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
    /// Creates a first segment that appears at `path` only when its `CaptureStaging` is published, so
    /// that a writer that fails before it starts leaves `path` as it was. Storages without a notion of
    /// staging create the segment at once (the default).
    func createStagedSegment(path: String, overwrite: Bool) throws(CaptureError) -> (any CaptureSegmentSink, CaptureStaging)
}

extension CaptureStorage {
    /// Creates the segment directly; publishing does nothing.
    public func createStagedSegment(path: String, overwrite: Bool) throws(CaptureError) -> (any CaptureSegmentSink, CaptureStaging) {
        (try createSegment(path: path, overwrite: overwrite), CaptureStaging(published: path))
    }
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
    /// Flushes and releases the segment (and its lock); the sink is not used again.
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
    /// Reads up to `buffer.count` bytes at `offset` without moving the position `read(into:)` uses;
    /// returns 0 at the end. Readers use it to look ahead for the next intact record after damage.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int
    /// Moves the position `read(into:)` continues from.
    func seek(to offset: Int64) throws(CaptureError)
    /// Releases the segment; the source is not used again.
    func close()
}

/// Segments as files, created with mode 0600 (captures hold whatever the clients sent, credentials
/// included).
///
/// Every segment being written holds an exclusive `flock(2)` for as long as its writer has it open, and
/// a file that another process (or another writer in this one) holds locked is never created over or
/// truncated: the writer is refused with `CaptureError.Kind.locked`. `flock` locks are advisory, so
/// this protects captures from other KafkaTape writers, not from `cp` or `rm`.
///
/// Segments being written get their disk blocks ahead of the writes (see `preallocate`).
public final class FileCaptureStorage: CaptureStorage, Sendable {
    /// Whether segments allocate their blocks ahead of the writes, with `fallocate(2)` and
    /// `FALLOC_FL_KEEP_SIZE`: as far ahead as they already hold, between 1 and 16 MiB. The file's size
    /// stays what was written, so readers never see the blocks ahead; what is left of them is given
    /// back when the segment is closed (a killed writer leaves them allocated past the end of the file,
    /// up to 16 MiB, until the file is removed or truncated). Why: ext4 then maps each write onto
    /// blocks it already has, instead of reserving and tracking delayed-allocation blocks page by page;
    /// that cut the CPU of `write(2)` by about 30% (`kafkatape-bench capture-cpu`, BENCHMARKS.md). Where
    /// the file system cannot (no `fallocate`, a device, a full disk) it is skipped, silently: the writes
    /// themselves report real errors.
    public let preallocate: Bool

    /// Whether segments being written start the write-back of what they wrote every 4 MiB
    /// (`sync_file_range(2)`) and drop it from the page cache once it is on disk
    /// (`posix_fadvise(POSIX_FADV_DONTNEED)`, 4 MiB behind), so a capture occupies at most about 8 MiB
    /// of page cache however long it runs. Why: a file that only grows keeps taking fresh pages for
    /// the page cache, and the kernel's copy into them was the proxy's largest cost with capture on
    /// (41% of its CPU samples); pages given back are the ones the next writes get. The write-back
    /// also no longer waits for the kernel's flusher, and the capture does not push the broker's or
    /// anyone else's data out of the cache. Measured side by side in `kafkatape-bench capture-cpu`
    /// and `tools/bench-proxy` (BENCHMARKS.md). It is not `fsync`: durability is unchanged. Where the
    /// file system cannot, it is skipped silently.
    public let dropBehind: Bool

    /// The local file system.
    public init(preallocate: Bool = true, dropBehind: Bool = true) {
        self.preallocate = preallocate
        self.dropBehind = dropBehind
    }

    /// Opens `path` with `O_CREAT|O_EXCL` (or, with `overwrite`, truncates it once it holds the lock),
    /// mode 0600, and locks it.
    public func createSegment(path: String, overwrite: Bool) throws(CaptureError) -> any CaptureSegmentSink {
        var flags = O_WRONLY | O_CREAT | O_CLOEXEC
        // No O_TRUNC: the file may belong to a running writer, which the lock below finds out first.
        if !overwrite { flags |= O_EXCL }
        let fd = retryingEINTR { open(path, flags, mode_t(0o600)) }
        guard fd >= 0 else {
            let e = errno
            if e == EEXIST { throw CaptureError(.fileExists, path: path) }
            throw CaptureError(.io(operation: "create", errno: e), path: path)
        }
        do {
            try lockExclusively(fd, path: path)
            if overwrite { try Self.truncateAndMakePrivate(fd, path: path) }
        } catch {
            close(fd)
            throw error
        }
        return FileSegmentSink(fd: fd, path: path, preallocate: preallocate, dropBehind: dropBehind)
    }

    /// Creates the first segment under a hidden temporary name in the same directory (so the final
    /// `rename(2)` or `link(2)` stays on one file system and is atomic). Nothing at `path` changes until
    /// `CaptureStaging.publish()`; until then an existing capture at `path` is held locked, so no other
    /// writer can replace it either. Without `overwrite`, an existing `path` is refused here already.
    public func createStagedSegment(path: String, overwrite: Bool) throws(CaptureError) -> (any CaptureSegmentSink, CaptureStaging) {
        // Claim what is there now: a running writer holds it locked; without --overwrite it must not exist.
        var existingFd: Int32 = -1
        let fd0 = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        if fd0 >= 0 {
            do {
                try lockExclusively(fd0, path: path)
            } catch {
                close(fd0)
                throw error
            }
            if !overwrite {
                close(fd0)
                throw CaptureError(.fileExists, path: path)
            }
            existingFd = fd0
        } else if errno != ENOENT {
            throw CaptureError(.io(operation: "open", errno: errno), path: path)
        }
        let temporary = Self.temporaryPath(for: path)
        let fd = retryingEINTR { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(0o600)) }
        guard fd >= 0 else {
            let e = errno
            if existingFd >= 0 { close(existingFd) }
            // Report the path the user named; the temporary name is ours.
            throw CaptureError(.io(operation: "create", errno: e), path: path)
        }
        // Nobody else knows the name yet; the lock is taken so that it is held from the moment the file
        // appears at `path`.
        _ = flock(fd, LOCK_EX | LOCK_NB)
        let staging = CaptureStaging(
            temporaryPath: temporary, path: path, overwrite: overwrite, heldFd: existingFd, unlinkTemporary: true)
        return (FileSegmentSink(fd: fd, path: path, preallocate: preallocate, dropBehind: dropBehind), staging)
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
    /// Where the next write goes (the sink only appends).
    private var end: Int64 = 0
    /// Blocks are allocated up to here (`FileCaptureStorage.preallocate`); 0 when not preallocating.
    private var allocatedTo: Int64 = 0
    private var preallocating: Bool
    /// Write-back has been started up to here (`FileCaptureStorage.dropBehind`).
    private var writeBackFrom: Int64 = 0
    /// The page cache has been dropped up to here.
    private var droppedTo: Int64 = 0
    private var droppingBehind: Bool

    static let minPreallocation: Int64 = 1 << 20
    static let maxPreallocation: Int64 = 16 << 20
    /// Write-back starts after this many bytes, and the cache is dropped this far behind it.
    static let dropBehindChunk: Int64 = 4 << 20

    init(fd: Int32, path: String, preallocate: Bool = false, dropBehind: Bool = false) {
        self.fd = fd
        self.path = path
        var st = stat()
        // Regular files only: devices (/dev/null) have no blocks to allocate and no cache to drop.
        let regular = fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
        preallocating = preallocate && Preallocation.fallocate != nil && regular
        droppingBehind = dropBehind && WriteBehind.syncFileRange != nil && regular
        if preallocating || droppingBehind {
            let position = lseek(fd, 0, SEEK_CUR)
            end = position >= 0 ? Int64(position) : 0
            allocatedTo = end
            writeBackFrom = end
            droppedTo = end
        }
    }

    /// Starts the write-back of each full chunk written since the last, waits for the chunk before it
    /// (written back by now, as a rule) and drops that one from the page cache.
    @inline(__always) private func dropBehindIfDue() {
        guard droppingBehind, end - writeBackFrom >= Self.dropBehindChunk, let syncFileRange = WriteBehind.syncFileRange else { return }
        if syncFileRange(fd, writeBackFrom, end - writeBackFrom, WriteBehind.write) != 0 {
            droppingBehind = false
            return
        }
        writeBackFrom = end
        let upTo = end - Self.dropBehindChunk
        guard upTo > droppedTo else { return }
        // Pages still dirty or under write-back are not dropped; wait for the older chunk first.
        _ = syncFileRange(fd, droppedTo, upTo - droppedTo, WriteBehind.waitBefore | WriteBehind.write | WriteBehind.waitAfter)
        _ = posix_fadvise(fd, off_t(droppedTo), off_t(upTo - droppedTo), Int32(POSIX_FADV_DONTNEED))
        droppedTo = upTo
    }

    /// Makes sure blocks are allocated for the next `count` bytes.
    @inline(__always) private func allocateAhead(_ count: Int) {
        guard preallocating, end + Int64(count) > allocatedTo, let fallocate = Preallocation.fallocate else { return }
        let step = min(Self.maxPreallocation, max(Self.minPreallocation, end, Int64(count)))
        let from = max(allocatedTo, end)
        let length = end + Int64(count) + step - from
        if fallocate(fd, Preallocation.keepSize, Int(from), Int(length)) == 0 {
            allocatedTo = from + length
        } else {
            // EOPNOTSUPP, ENOSPC, ...: write without; the writes report what matters.
            preallocating = false
        }
    }

    deinit {
        if fd >= 0 { _ = posixClose(fd) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(CaptureError) {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        guard var p = bytes.baseAddress else { return }
        allocateAhead(bytes.count)
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
            end += Int64(n)
        }
        dropBehindIfDue()
    }

    func write(vectored parts: [UnsafeRawBufferPointer]) throws(CaptureError) {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        var vecs = parts.compactMap { p in p.baseAddress.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0), iov_len: p.count) } }
        if preallocating { allocateAhead(parts.reduce(0) { $0 + $1.count }) }
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
            end += Int64(n)
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
        dropBehindIfDue()
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
        // Give back the blocks allocated past the end: truncating to the size the file already has
        // frees them on ext4 and XFS.
        if allocatedTo > end { _ = ftruncate(fd, off_t(end)) }
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

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(CaptureError) -> Int {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = pread(fd, base, buffer.count, off_t(offset))
            if n >= 0 { return n }
            let e = errno
            if e == EINTR { continue }
            throw CaptureError(.io(operation: "read", errno: e), path: path)
        }
    }

    func seek(to offset: Int64) throws(CaptureError) {
        guard fd >= 0 else { throw CaptureError(.closed, path: path) }
        if lseek(fd, off_t(offset), SEEK_SET) < 0 { throw CaptureError(.io(operation: "seek", errno: errno), path: path) }
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

extension FileCaptureStorage {
    static func truncateAndMakePrivate(_ fd: Int32, path: String) throws(CaptureError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw CaptureError(.io(operation: "stat", errno: errno), path: path) }
        // Character devices (/dev/null, /dev/full) can be neither truncated nor chmod'ed; that is fine.
        guard (st.st_mode & S_IFMT) == S_IFREG else { return }
        if ftruncate(fd, 0) != 0 { throw CaptureError(.io(operation: "truncate", errno: errno), path: path) }
        // An existing file keeps its mode; a capture is always private.
        if fchmod(fd, mode_t(0o600)) != 0 { throw CaptureError(.io(operation: "chmod", errno: errno), path: path) }
    }

    /// `.NAME.PID.RANDOM.tmp` next to `path`: hidden, and unique per process and call (O_EXCL checks).
    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let n = UInt32.random(in: 0...UInt32.max)
        return "\(directory).\(name).\(getpid()).\(String(n, radix: 16)).tmp"
    }
}

/// Takes an exclusive `flock` without waiting; a holder elsewhere is `CaptureError.Kind.locked`.
func lockExclusively(_ fd: Int32, path: String) throws(CaptureError) {
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
        let e = errno
        if e == EINTR { continue }
        if e == EWOULDBLOCK || e == EAGAIN { throw CaptureError(.locked, path: path) }
        // File systems without flock support (some network mounts): proceed unprotected rather than
        // refuse to record at all.
        if e == ENOLCK || e == EOPNOTSUPP || e == EINVAL { return }
        throw CaptureError(.io(operation: "lock", errno: e), path: path)
    }
}

/// `sync_file_range(2)`, which Swift's Glibc module does not export (a GNU extension), looked up once.
enum WriteBehind {
    typealias Function = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    #if os(Linux)
    static let syncFileRange: Function? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range").map { unsafeBitCast($0, to: Function.self) }
    #else
    static let syncFileRange: Function? = nil
    #endif
    /// SYNC_FILE_RANGE_WAIT_BEFORE, _WRITE, _WAIT_AFTER.
    static let waitBefore: UInt32 = 1
    static let write: UInt32 = 2
    static let waitAfter: UInt32 = 4
}

/// `fallocate(2)`, which Swift's Glibc module does not export (it is a GNU extension), looked up once.
enum Preallocation {
    typealias Function = @convention(c) (Int32, Int32, Int, Int) -> Int32
    #if os(Linux)
    static let fallocate: Function? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate").map { unsafeBitCast($0, to: Function.self) }
    #else
    static let fallocate: Function? = nil
    #endif
    /// FALLOC_FL_KEEP_SIZE: allocate without changing the file's size.
    static let keepSize: Int32 = 1
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
