import Testing

@testable import KafkaProxy

/// The allocator is trimmed once a burst of connections is over: when none is left and enough were
/// released since the last trim; never while connections are alive.
@Suite struct AllocatorTrimTests {
    @Test func trimsOnlyWhenTheLastOfEnoughConnectionsIsGone() {
        let trim = AllocatorTrim()
        let n = AllocatorTrim.minimumReleased
        // A burst of n connections closing one by one: only the last release (none left) trims.
        let started = (0..<n).map { trim.connectionReleased(live: n - 1 - $0) }
        #expect(started == Array(repeating: false, count: n - 1) + [true])
        // Right after a trim, a few short connections do not trim again.
        #expect((0..<(n - 1)).allSatisfy { _ in !trim.connectionReleased(live: 0) })
        #expect(trim.connectionReleased(live: 0))
        // Under load (connections alive) never, however many were released.
        #expect((0..<(3 * n)).allSatisfy { _ in !trim.connectionReleased(live: 5) })
        #expect(trim.connectionReleased(live: 0))
    }
}
