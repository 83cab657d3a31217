import NIOConcurrencyHelpers

/// The bytes all connections together may hold in incomplete frames (`--max-buffered-bytes`).
///
/// A frame is reserved at its declared size as soon as its size prefix arrives and it is not yet
/// complete, so a peer announcing 60 MiB and sending it slowly holds its 60 MiB from the start: a
/// frame that does not fit in what is left is refused before any of it is buffered, instead of the
/// process growing until the kernel kills it. Frames that arrive whole in one read are never reserved:
/// they are forwarded at once.
public final class BufferBudget: Sendable {
    /// 256 MiB: room for two frames of the default `--max-frame-bytes` (100 MiB) plus many ordinary
    /// ones, well below the memory of the smallest machines the proxy is run on.
    public static let defaultLimit = 256 * 1024 * 1024

    /// The limit; 0 means none.
    public let limit: Int
    private let used = NIOLockedValueBox((now: 0, peak: 0))

    /// A budget of `limit` bytes shared by every connection of one proxy (0: unlimited).
    public init(limit: Int) {
        self.limit = limit
    }

    /// Bytes reserved now.
    public var reserved: Int { used.withLockedValue { $0.now } }

    /// The most bytes reserved at any one time so far: what a slow observer (a test on a loaded
    /// machine, a metrics scrape) would otherwise miss between two looks.
    public var peak: Int { used.withLockedValue { $0.peak } }

    /// Takes `bytes` from the budget; false (and nothing taken) when they do not fit.
    public func reserve(_ bytes: Int) -> Bool {
        used.withLockedValue { used in
            if limit > 0, bytes > limit - used.now { return false }
            used.now += bytes
            used.peak = max(used.peak, used.now)
            return true
        }
    }

    /// Gives back what `reserve` took.
    public func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLockedValue { $0.now = max(0, $0.now - bytes) }
    }
}
