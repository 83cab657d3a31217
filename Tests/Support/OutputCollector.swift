import Foundation

/// Drains stdout and stderr of a process on background threads, so a chatty child never blocks on a
/// full pipe.
final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    private let group = DispatchGroup()

    func collect(_ stdout: FileHandle, _ stderr: FileHandle) {
        for (handle, isOut) in [(stdout, true), (stderr, false)] {
            group.enter()
            DispatchQueue.global().async {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    self.lock.lock()
                    if isOut { self.out.append(chunk) } else { self.err.append(chunk) }
                    self.lock.unlock()
                }
                self.group.leave()
            }
        }
    }

    func wait() { group.wait() }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }
}
