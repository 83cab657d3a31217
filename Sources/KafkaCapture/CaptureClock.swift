#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// When something happened, on two clocks: a monotonic one (for durations and ordering; its epoch is
/// arbitrary but shared by every record of one capture) and the wall clock (nanoseconds since the
/// Unix epoch, for people).
public struct CaptureTimestamp: Hashable, Sendable, Comparable {
    /// Nanoseconds on the capture's monotonic clock.
    public var monotonicNs: UInt64
    /// Nanoseconds since the Unix epoch, UTC.
    public var wallNs: Int64

    /// A timestamp from both clock readings.
    public init(monotonicNs: UInt64, wallNs: Int64) {
        self.monotonicNs = monotonicNs
        self.wallNs = wallNs
    }

    /// Ordered by the monotonic clock.
    public static func < (a: CaptureTimestamp, b: CaptureTimestamp) -> Bool { a.monotonicNs < b.monotonicNs }
}

/// The source of record timestamps. The proxy takes one so tests, replay and pcap import can supply
/// their own time.
public protocol CaptureClock: Sendable {
    /// The current time on both clocks: monotonic for ordering and latencies, wall clock for people.
    func now() -> CaptureTimestamp
}

/// `CLOCK_MONOTONIC` and `CLOCK_REALTIME`.
public struct SystemCaptureClock: CaptureClock {
    /// The system clocks.
    public init() {}

    /// Reads both clocks.
    public func now() -> CaptureTimestamp {
        CaptureTimestamp(monotonicNs: UInt64(clamping: Self.read(CLOCK_MONOTONIC)), wallNs: Self.read(CLOCK_REALTIME))
    }

    private static func read(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}

/// A clock that moves only when told to; thread-safe.
public final class ManualCaptureClock: CaptureClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: CaptureTimestamp

    /// A clock reading `start` until advanced.
    public init(start: CaptureTimestamp = CaptureTimestamp(monotonicNs: 1_000_000_000, wallNs: 1_700_000_000_000_000_000)) {
        current = start
    }

    /// The current reading.
    public func now() -> CaptureTimestamp {
        lock.withLock { current }
    }

    /// Moves both clocks forward by `nanoseconds`.
    public func advance(by nanoseconds: UInt64) {
        lock.withLock {
            current.monotonicNs &+= nanoseconds
            current.wallNs &+= Int64(truncatingIfNeeded: nanoseconds)
        }
    }
}
