import KafkaCapture

/// Pairs up what two captures did: connections by role (bootstrap or node N) and order, then
/// requests within a pair of connections by a longest common subsequence of their API keys and
/// versions, so a request missing on one side shows as exactly that instead of shifting every later
/// comparison.
public enum ExchangeAligner {
    /// Pairs of connection indexes into `a` and `b` (nil: no partner), in `a`'s order, then `b`'s
    /// leftovers. Within a role, a connection whose API sequence is identical is preferred to the
    /// next one in order; connections left over in one role pair with leftovers of another by order.
    public static func pairConnections(_ a: [RecordedConnection], _ b: [RecordedConnection]) -> [(Int?, Int?)] {
        func signature(_ c: RecordedConnection) -> (Int32, [Int32]) {
            (c.nodeId, c.exchanges.map { Int32($0.apiKey) << 16 | Int32($0.apiVersion) })
        }
        return pairConnections(a.map(signature), b.map(signature))
    }

    /// `pairConnections` on each connection's node id and request keys (`apiKey << 16 | apiVersion`).
    static func pairConnections(_ a: [(nodeId: Int32, keys: [Int32])], _ b: [(nodeId: Int32, keys: [Int32])]) -> [(Int?, Int?)] {
        var partner: [Int: Int] = [:]
        var takenB: Set<Int> = []
        // Same role and identical API sequence, then same role in order.
        for exact in [true, false] {
            for (i, ca) in a.enumerated() where partner[i] == nil {
                if let j = b.indices.first(where: { j in
                    !takenB.contains(j) && b[j].nodeId == ca.nodeId && (!exact || b[j].keys == ca.keys)
                }) {
                    partner[i] = j
                    takenB.insert(j)
                }
            }
        }
        // Leftovers of different roles, in order (a capture of another cluster numbers nodes differently).
        var restB = b.indices.filter { !takenB.contains($0) }[...]
        for i in a.indices where partner[i] == nil {
            guard let j = restB.first else { break }
            restB = restB.dropFirst()
            partner[i] = j
            takenB.insert(j)
        }
        var out: [(Int?, Int?)] = a.indices.map { ($0, partner[$0]) }
        for j in b.indices where !takenB.contains(j) { out.append((nil, j)) }
        return out
    }

    /// Aligns two request sequences by (API key, version): pairs of indexes, nil where a request has
    /// no counterpart. Long sequences fall back to a greedy walk to bound memory.
    public static func alignRequests(_ a: [Exchange], _ b: [Exchange]) -> [(Int?, Int?)] {
        alignRequests(keys: a.map { Int32($0.apiKey) << 16 | Int32($0.apiVersion) }, b.map { Int32($0.apiKey) << 16 | Int32($0.apiVersion) })
    }

    /// `alignRequests` on the requests' keys (`apiKey << 16 | apiVersion`).
    static func alignRequests(keys ka: [Int32], _ kb: [Int32]) -> [(Int?, Int?)] {
        if ka == kb { return ka.indices.map { ($0, $0) } }
        let n = ka.count
        let m = kb.count
        guard n * m <= 4_000_000 else { return greedy(ka, kb) }
        // lcs[i][j]: LCS length of ka[i...] and kb[j...], flattened.
        var lcs = [Int32](repeating: 0, count: (n + 1) * (m + 1))
        let w = m + 1
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i * w + j] = ka[i] == kb[j] ? lcs[(i + 1) * w + j + 1] + 1 : max(lcs[(i + 1) * w + j], lcs[i * w + j + 1])
            }
        }
        var out: [(Int?, Int?)] = []
        var i = 0
        var j = 0
        while i < n && j < m {
            if ka[i] == kb[j] {
                out.append((i, j))
                i += 1
                j += 1
            } else if lcs[(i + 1) * w + j] >= lcs[i * w + j + 1] {
                out.append((i, nil))
                i += 1
            } else {
                out.append((nil, j))
                j += 1
            }
        }
        while i < n {
            out.append((i, nil))
            i += 1
        }
        while j < m {
            out.append((nil, j))
            j += 1
        }
        return out
    }

    static func greedy(_ ka: [Int32], _ kb: [Int32]) -> [(Int?, Int?)] {
        var out: [(Int?, Int?)] = []
        var j = 0
        for i in ka.indices {
            if let k = kb[j...].prefix(64).firstIndex(of: ka[i]) {
                while j < k {
                    out.append((nil, j))
                    j += 1
                }
                out.append((i, j))
                j += 1
            } else {
                out.append((i, nil))
            }
        }
        while j < kb.count {
            out.append((nil, j))
            j += 1
        }
        return out
    }
}
