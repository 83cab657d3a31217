#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A capture's first segment written under a temporary name until the capture has really started.
///
/// `record` creates its capture before it binds the listener; if binding fails, nothing at the
/// capture path may have changed (an old capture replaced by `--overwrite` would be lost for
/// nothing, and a stub file would make the retry fail with "file exists"). So the segment is written
/// at a hidden name in the same directory and `publish()` moves it into place: `rename(2)` with
/// `overwrite` (atomic: readers see the old capture or the new one), `link(2)` without it (atomic
/// and fails when the name has been taken meanwhile). `discard()` removes it.
///
/// Safe to call from any thread.
public final class CaptureStaging: @unchecked Sendable {
    private struct State {
        var published: Bool
        var discarded = false
        /// An existing capture at `path`, opened and locked so no other writer takes it meanwhile.
        var heldFd: Int32
    }

    /// Where the segment is written until it is published.
    public let temporaryPath: String
    /// Where it ends up.
    public let path: String
    private let overwrite: Bool
    private let unlinkTemporary: Bool
    private let lock = NSLock()
    // Guarded by `lock`.
    private var state: State

    init(temporaryPath: String, path: String, overwrite: Bool, heldFd: Int32, unlinkTemporary: Bool) {
        self.temporaryPath = temporaryPath
        self.path = path
        self.overwrite = overwrite
        self.unlinkTemporary = unlinkTemporary
        self.state = State(published: false, heldFd: heldFd)
    }

    /// A segment created in place: already published.
    init(published path: String) {
        self.temporaryPath = path
        self.path = path
        self.overwrite = false
        self.unlinkTemporary = false
        self.state = State(published: true, heldFd: -1)
    }

    deinit {
        let fd = state.heldFd
        if fd >= 0 { _ = posixClose(fd) }
    }

    /// Whether the segment is at `path`.
    public var isPublished: Bool { lock.withLock { state.published } }

    /// Moves the segment to `path`. Publishing twice does nothing. Throws `fileExists` when `path` was
    /// created meanwhile (without `overwrite`), `locked` when another writer holds the file now at `path`.
    public func publish() throws(CaptureError) {
        let result: CaptureError? = lock.withLock { () -> CaptureError? in
            if state.published { return nil }
            if state.discarded { return CaptureError(.closed, path: path) }
            if overwrite {
                // A file that appeared at `path` after staging (another writer that published first)
                // is held locked by its writer; replacing it would lose that writer's session.
                let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
                if fd >= 0 {
                    var mine = false
                    if state.heldFd >= 0 {
                        var a = stat()
                        var b = stat()
                        mine = fstat(fd, &a) == 0 && fstat(state.heldFd, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino
                    }
                    if !mine {
                        do throws(CaptureError) {
                            try lockExclusively(fd, path: path)
                        } catch {
                            _ = posixClose(fd)
                            return error
                        }
                    }
                    _ = posixClose(fd)
                }
                if rename(temporaryPath, path) != 0 { return CaptureError(.io(operation: "rename", errno: errno), path: path) }
            } else {
                if link(temporaryPath, path) != 0 {
                    let e = errno
                    if e == EEXIST { return CaptureError(.fileExists, path: path) }
                    return CaptureError(.io(operation: "link", errno: e), path: path)
                }
                _ = unlink(temporaryPath)
            }
            state.published = true
            if state.heldFd >= 0 {
                _ = posixClose(state.heldFd)
                state.heldFd = -1
            }
            return nil
        }
        if let result { throw result }
    }

    /// Removes the unpublished segment; `path` stays as it was. Does nothing once published.
    public func discard() {
        lock.withLock {
            guard !state.published, !state.discarded else { return }
            state.discarded = true
            if unlinkTemporary { _ = unlink(temporaryPath) }
            if state.heldFd >= 0 {
                _ = posixClose(state.heldFd)
                state.heldFd = -1
            }
        }
    }
}
