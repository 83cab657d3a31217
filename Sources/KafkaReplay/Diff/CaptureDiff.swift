import KafkaCapture
import KafkaProtocol

/// Compares two captures: aligns their exchanges (`ExchangeAligner`), then compares each aligned
/// pair's normalised request and response field by field (`ValueDiff`). Each capture's topic ids
/// resolve to names through its own Metadata answers, so topics compare by name across clusters.
public struct CaptureDiff: Sendable {
    /// What is ignored, masked or renamed before comparing (`NormalizationRules.standard()` plus `--ignore`).
    public var rules: NormalizationRules
    /// Stop listing differences of one message after this many.
    public var maxDifferencesPerMessage: Int

    /// A comparison with `rules`, listing at most `maxDifferencesPerMessage` differences per message.
    public init(rules: NormalizationRules = .standard(), maxDifferencesPerMessage: Int = 200) {
        self.rules = rules
        self.maxDifferencesPerMessage = maxDifferencesPerMessage
    }

    /// Aligns and compares two captures held in memory; `pathA` and `pathB` only label the report.
    public func compare(_ a: RecordedSession, _ b: RecordedSession, pathA: String = "A", pathB: String = "B") -> DiffReport {
        do {
            return try compareInputs(a, b, pathA: pathA, pathB: pathB)
        } catch {
            // A session in memory has every exchange; reading one cannot fail.
            return DiffReport(pathA: pathA, pathB: pathB, connections: [], rules: rules, warnings: ["\(error)"])
        }
    }

    /// Compares two captures on disk, reading each aligned pair's frames back by position: memory
    /// stays at the two indexes and one frame pair, whatever the captures' size. Throws when a
    /// capture changes between indexing and comparison.
    public func compare(_ a: IndexedCapture, _ b: IndexedCapture) throws(CaptureError) -> DiffReport {
        try compareInputs(a, b, pathA: a.path, pathB: b.path)
    }

    /// Compares two captures on disk and hands each result to `output` as soon as it is known,
    /// keeping none of them: memory is the two indexes and one frame pair, however many exchanges the
    /// captures hold. Returns the counts the summary needs.
    public func compare(
        _ a: IndexedCapture, _ b: IndexedCapture, into output: (DiffReport.Event) -> Void
    ) throws(CaptureError) -> DiffReport.Counts {
        try walk(a, b, into: output)
    }

    func compareInputs<A: DiffInput, B: DiffInput>(_ a: A, _ b: B, pathA: String, pathB: String) throws(CaptureError) -> DiffReport {
        var results: [DiffReport.ConnectionResult] = []
        try walk(a, b) { event in
            switch event {
            case .connection(let ca, let cb):
                results.append(DiffReport.ConnectionResult(a: ca, b: cb, exchanges: []))
            case .exchange(let e):
                results[results.count - 1].exchanges.append(e)
            }
        }
        return DiffReport(
            pathA: pathA, pathB: pathB, connections: results, rules: rules,
            warnings: a.warnings.map { "A: \($0)" } + b.warnings.map { "B: \($0)" })
    }

    /// The comparison itself: pairs of connections in order, each followed by its aligned exchanges.
    func walk<A: DiffInput, B: DiffInput>(
        _ a: A, _ b: B, into output: (DiffReport.Event) -> Void
    ) throws(CaptureError) -> DiffReport.Counts {
        // Each side renames its identifiers in the order the comparison walks them (aligned pairs).
        let normA = MessageNormalizer(rules: rules, topicNames: a.topicNames, renamer: IdentifierRenamer())
        let normB = MessageNormalizer(rules: rules, topicNames: b.topicNames, renamer: IdentifierRenamer())
        let connectionsA = a.diffConnections
        let connectionsB = b.diffConnections
        var counts = DiffReport.Counts()
        let pairs = ExchangeAligner.pairConnections(
            connectionsA.map { ($0.nodeId, $0.keys) }, connectionsB.map { ($0.nodeId, $0.keys) })
        for (ia, ib) in pairs {
            let ca = ia.map { connectionsA[$0] }
            let cb = ib.map { connectionsB[$0] }
            if ca == nil || cb == nil { counts.unpairedConnections += 1 }
            output(.connection(a: ca.map { ($0.id, $0.nodeDescription) }, b: cb.map { ($0.id, $0.nodeDescription) }))
            for (ja, jb) in ExchangeAligner.alignRequests(keys: ca?.keys ?? [], cb?.keys ?? []) {
                var xa: ComparableExchange?
                var xb: ComparableExchange?
                if let ia, let ja { xa = ComparableExchange(try a.exchange(connection: ia, index: ja), normalizer: normA) }
                if let ib, let jb { xb = ComparableExchange(try b.exchange(connection: ib, index: jb), normalizer: normB) }
                let result = compareExchange(xa, ja, xb, jb)
                counts.add(result)
                output(.exchange(result))
            }
        }
        return counts
    }

    func compareExchange(_ xa: ComparableExchange?, _ ia: Int?, _ xb: ComparableExchange?, _ ib: Int?) -> DiffReport.ExchangeResult {
        func ref(_ x: ComparableExchange?, _ i: Int?) -> DiffReport.ExchangeRef? {
            guard let x, let i else { return nil }
            return DiffReport.ExchangeRef(
                connectionId: x.exchange.connectionId, correlationId: x.exchange.correlationId, position: i + 1,
                apiName: x.apiName, apiVersion: x.exchange.apiVersion)
        }
        var result = DiffReport.ExchangeResult(
            a: ref(xa, ia), b: ref(xb, ib), status: .same, requestDifferences: [], responseDifferences: [], notes: [])
        guard let xa, let xb else {
            result.status = xa == nil ? .onlyInB : .onlyInA
            return result
        }
        let limit = maxDifferencesPerMessage
        result.requestDifferences = ValueDiff.differences(xa.request, xb.request, limit: limit)
        switch (xa.response, xb.response) {
        case (let ra?, let rb?):
            result.responseDifferences = ValueDiff.differences(ra, rb, limit: limit)
        case (nil, nil):
            break
        case (let ra, let rb):
            // A response nobody waited for (the client closed first, or the capture ended) is not
            // something the other side did differently; a response that never came when it should have is.
            let missing = ra == nil ? xa.exchange.missingResponse : xb.exchange.missingResponse
            let side = ra == nil ? "A" : "B"
            if missing == .connectionClosed || missing == .captureEnded {
                result.notes.append("no response in \(side): \(missing?.description ?? "missing")")
            } else {
                result.responseDifferences.append(FieldDifference(path: .root, a: ra, b: rb))
            }
        }
        if !result.requestDifferences.isEmpty || !result.responseDifferences.isEmpty { result.status = .differs }
        return result
    }
}
