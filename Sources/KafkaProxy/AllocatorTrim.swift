import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Gives the memory of closed connections back to the system once a burst of them is over.
///
/// glibc's malloc keeps what freed connections used for reuse (per-thread arenas, free chunks below
/// the top of each heap), so after 1,000 concurrent connections the proxy's RSS stayed 10 MB up for
/// good although none of them was alive: `tools/bench-soak` measured it flat over three such rounds,
/// and back within 1.5 MB of where it started after a `malloc_trim(0)` (BENCHMARKS.md, Soak). So
/// when no connection is left and at least `minimumReleased` were released since the last trim, the
/// proxy calls `malloc_trim(0)`, off the event loops. Under steady load connections never all go, and
/// nothing is trimmed: the memory is being reused then.
final class AllocatorTrim: Sendable {
    /// Connections released since the last trim before another is worth it (a trim walks every arena).
    static let minimumReleased = 256

    private typealias Function = @convention(c) (Int) -> Int32
    /// `malloc_trim` (a glibc extension, not in Swift's Glibc module), looked up once; nil elsewhere.
    #if os(Linux)
    private static let mallocTrim: Function? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim").map {
        unsafeBitCast($0, to: Function.self)
    }
    #else
    private static let mallocTrim: Function? = nil
    #endif

    private let released = NIOLockedValueBox(0)

    /// A connection object was released; `live` are left. True when that started a trim.
    @discardableResult
    func connectionReleased(live: Int) -> Bool {
        let due = released.withLockedValue { n -> Bool in
            n += 1
            guard live == 0, n >= Self.minimumReleased else { return false }
            n = 0
            return true
        }
        guard due else { return false }
        if let trim = Self.mallocTrim { DispatchQueue.global(qos: .utility).async { _ = trim(0) } }
        return true
    }
}
