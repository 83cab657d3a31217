import KafkaProtocol

/// Which recorded request answers an incoming one: the matching state of `serve`, as a state
/// machine with one mutating function per input and no I/O.
///
/// Each live connection follows one recorded connection (chosen by its first requests, among those
/// recorded on the same listener: bootstrap or node N) and moves through it in recorded order. For an
/// incoming request (same API key and version, same normalised content):
/// 1. the next match at or after the followed connection's cursor (skipping recorded requests the
///    client did not send this time);
/// 2. else an earlier match on the followed connection (a client repeating itself: another
///    heartbeat, a fetch at the same offset);
/// 3. else the first match on a recorded connection nobody follows, same listener first: the live
///    connection follows that one from now on, and what it consumed of its previous one is given back
///    (its first requests, typically ApiVersions, were ambiguous);
/// 4. else a match anywhere;
/// 5. else a miss.
public struct ServeMatcher: Sendable {
    /// The recorded request that answers an incoming one.
    public struct Match: Hashable, Sendable {
        /// Index into `ServeScript.connections`.
        public var connection: Int
        /// Index into that connection's entries.
        public var entry: Int
    }

    struct Live: Sendable {
        var node: Int32
        var following: Int?
        /// The followed connection's cursor when this live connection started following it.
        var startCursor: Int
    }

    let script: ServeScript
    private(set) var cursors: [Int]
    private(set) var followedBy: [Int: UInt64] = [:]
    private var live: [UInt64: Live] = [:]
    /// Restarts so far (with `loop`).
    public private(set) var rounds = 0

    /// A matcher at the start of `script`, with no live connection.
    public init(script: ServeScript) {
        self.script = script
        cursors = Array(repeating: 0, count: script.connections.count)
    }

    /// Client connections open now.
    public var liveConnections: Int { live.count }

    /// A client connected to the listener of `node` (-1: bootstrap); it follows no recorded connection yet.
    public mutating func connectionOpened(_ id: UInt64, node: Int32) {
        live[id] = Live(node: node, following: nil, startCursor: 0)
    }

    /// A client disconnected; the recorded connection it followed is free for another.
    public mutating func connectionClosed(_ id: UInt64) {
        if let l = live.removeValue(forKey: id), let f = l.following, followedBy[f] == id {
            followedBy[f] = nil
        }
    }

    /// Every recorded answer has been given once and no client is connected.
    public var playedThrough: Bool {
        live.isEmpty && script.connections.indices.allSatisfy { cursors[$0] >= script.connections[$0].playedThroughAt }
    }

    /// Starts the recorded session over (`--loop`).
    public mutating func restart() {
        cursors = Array(repeating: 0, count: script.connections.count)
        followedBy = followedBy.filter { live[$0.value] != nil }
        rounds += 1
    }

    func matches(_ c: Int, _ i: Int, signature: Int32, normalized: KafkaValue) -> Bool {
        let e = script.connections[c].entries[i]
        return e.signature == signature && e.normalized == normalized
    }

    /// The recorded request that answers request `signature` (API key and version) with content `normalized`
    /// on live connection `id`, by the rules above; nil for a miss.
    public mutating func match(_ id: UInt64, signature: Int32, normalized: KafkaValue) -> Match? {
        let node = live[id]?.node ?? -1
        if live[id] == nil { live[id] = Live(node: node, following: nil, startCursor: 0) }
        let following = live[id]?.following
        if let c = following {
            let entries = script.connections[c].entries
            if let i = (cursors[c]..<entries.count).first(where: { matches(c, $0, signature: signature, normalized: normalized) }) {
                cursors[c] = i + 1
                return Match(connection: c, entry: i)
            }
            if let i = (0..<cursors[c]).reversed().first(where: { matches(c, $0, signature: signature, normalized: normalized) }) {
                return Match(connection: c, entry: i)
            }
        }
        // A recorded connection nobody follows: same listener first, then any.
        for sameNode in [true, false] {
            for c in script.connections.indices where c != following && followedBy[c] == nil {
                if sameNode != (script.connections[c].nodeId == node) { continue }
                let entries = script.connections[c].entries
                guard
                    let i = (cursors[c]..<entries.count).first(where: { matches(c, $0, signature: signature, normalized: normalized) })
                else { continue }
                if let old = following {
                    cursors[old] = live[id]?.startCursor ?? cursors[old]
                    followedBy[old] = nil
                }
                live[id]?.following = c
                live[id]?.startCursor = cursors[c]
                followedBy[c] = id
                cursors[c] = i + 1
                return Match(connection: c, entry: i)
            }
        }
        for c in script.connections.indices {
            if let i = script.connections[c].entries.indices.first(where: { matches(c, $0, signature: signature, normalized: normalized) }) {
                return Match(connection: c, entry: i)
            }
        }
        return nil
    }

    /// The recorded request closest to a missed one: same API key and version, fewest differing
    /// fields; ties go to the followed connection's next request, then recorded order.
    public func nearest(_ id: UInt64, signature: Int32, normalized: KafkaValue) -> (Match, [FieldDifference])? {
        let following = live[id]?.following
        var best: (Match, Int, Int)?
        for c in script.connections.indices {
            for (i, e) in script.connections[c].entries.enumerated() where e.signature == signature {
                let d = ValueDiff.distance(e.normalized, normalized, limit: (best?.1 ?? 10_000) + 1)
                let proximity = c == following ? abs(i - cursors[c]) : 1_000_000
                if let b = best, (d, proximity) >= (b.1, b.2) { continue }
                best = (Match(connection: c, entry: i), d, proximity)
            }
        }
        guard let (m, _, _) = best else { return nil }
        let recorded = script.connections[m.connection].entries[m.entry].normalized
        return (m, ValueDiff.differences(recorded, normalized, limit: 50))
    }
}
