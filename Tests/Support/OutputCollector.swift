import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Drains stdout and stderr of a process on background threads, so a chatty child never blocks on a
/// full pipe.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let group = DispatchGroup()

    /// One thread of its own per pipe, not a block on a global dispatch queue: the reads block for the
    /// child's whole life, and with many children alive in parallel suites they used up the queue's
    /// few worker threads, so a new child's output was not read at all and a wait for its first line
    /// timed out with nothing collected (a clean-clone CI run failed that way).
    func collect(_ stdout: FileHandle, _ stderr: FileHandle) {
        for (handle, isOut) in [(stdout, true), (stderr, false)] {
            group.enter()
            let thread = Thread {
                while let chunk = PipeReader.next(handle) {
                    self.lock.lock()
                    if isOut { self.out.append(chunk) } else { self.err.append(chunk) }
                    self.lock.unlock()
                }
                self.group.leave()
            }
            thread.name = isOut ? "child-stdout" : "child-stderr"
            thread.start()
        }
    }

    func wait() { group.wait() }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}

/// Blocking reads from a pipe that survive signals. Foundation's `FileHandle.availableData` and
/// `readDataToEndOfFile()` end the process with a fatal error when `read` returns EINTR, which happens
/// whenever a signal (a child's SIGCHLD, for one) lands on the reading thread; a clean-clone CI run
/// died that way. These retry instead.
enum PipeReader {
    /// The next chunk, or nil at end of file (or on an error other than EINTR).
    static func next(_ handle: FileHandle) -> Data? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
            if n > 0 { return Data(buffer[0..<n]) }
            if n < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Everything until end of file.
    static func readToEnd(_ handle: FileHandle) -> Data {
        var data = Data()
        while let chunk = next(handle) { data.append(chunk) }
        return data
    }
}
