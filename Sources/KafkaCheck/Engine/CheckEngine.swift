import KafkaCapture
import KafkaProtocol

/// Runs the invariants over a capture in one pass.
///
/// Records stream through once: the model and the invariants see lifecycle and event records as they
/// come, an `ExchangeTracker` pairs frames into exchanges, released in request order by a
/// `RequestOrderWindow` (bounded: a request never answered cannot hold back the rest of the
/// capture), each exchange is decoded
/// once (`ExchangeContext`), the model learns from it, then every enabled invariant observes it.
/// Memory is the tracker's outstanding requests plus what the model and invariants keep: digests
/// (not bytes) of the records seen, per-partition offsets and per-group state.
public final class CheckEngine {
    /// What this check runs and how strictly.
    public let configuration: CheckConfiguration
    /// The shared model the invariants read, built as the capture streams past.
    public let model: CaptureModel
    /// The context handed to every invariant (model, configuration, notes).
    public let context: CheckContext
    private let invariants: [any Invariant]
    private var window: RequestOrderWindow
    private var collector: FindingCollector
    private var stats = CheckReport.Statistics()
    private var faults: [String: Int] = [:]
    private var gaps = 0

    /// An engine running the enabled invariants of `configuration` (or the given ones, for tests).
    public convenience init(configuration: CheckConfiguration = CheckConfiguration(), invariants: [any Invariant]? = nil) {
        self.init(configuration: configuration, invariants: invariants, window: RequestOrderWindow())
    }

    init(configuration: CheckConfiguration, invariants: [any Invariant]?, window: RequestOrderWindow) {
        self.window = window
        self.configuration = configuration
        model = CaptureModel()
        context = CheckContext(model: model, configuration: configuration)
        self.invariants = (invariants ?? Invariants.all()).filter { configuration.enabled.contains($0.id) }
        collector = FindingCollector(limit: configuration.maxFindingsPerInvariant)
    }

    /// Feeds one record.
    public func process(_ record: CaptureRecord) {
        stats.records += 1
        switch record {
        case .frame(let f): stats.frameBytes += Int64(f.payload.readableBytes) + 4
        case .connectionOpened: stats.connections += 1
        case .event(let e) where e.kind == .fault:
            faults[e[attribute: "fault"] ?? e.message, default: 0] += 1
        case .event(let e) where e.kind == .gap:
            gaps += 1
        default: break
        }
        model.observe(record: record)
        for inv in invariants { collector.add(inv.observe(record: record, context)) }
        handle(window.process(record))
    }

    /// Ends the capture and returns the report.
    public func finish() -> CheckReport {
        handle(window.finish())
        if window.forcedReleases > 0 {
            context.note(
                "requests left unanswered for long made \(window.forcedReleases) group(s) of later exchanges be checked before them (out of request order)")
        }
        for inv in invariants { collector.add(inv.finish(context)) }
        if !faults.isEmpty {
            let list = faults.sorted { $0.key < $1.key }.prefix(5).map { "\($0.key) ×\($0.value)" }.joined(separator: "; ")
            context.note("the capture records staged faults (findings may be theirs): \(list)")
        }
        if gaps > 0 {
            context.note("the capture has \(gaps) gap event(s) (bytes missing, e.g. lost packets); findings next to them may be artefacts")
        }
        return CheckReport(
            findings: collector.sortedFindings, counts: collector.counts, checked: invariants.map(\.id).sorted(),
            notes: context.notes, statistics: stats)
    }

    private func handle(_ events: [ExchangeEvent]) {
        for event in events {
            switch event {
            case .exchange(let e):
                stats.exchanges += 1
                let ctx = ExchangeContext(e)
                model.ingest(ctx)
                for inv in invariants { collector.add(inv.observe(ctx, context)) }
            case .unmatchedResponse(let u):
                for inv in invariants { collector.add(inv.observe(unmatched: u, context)) }
            case .unparsableRequest:
                context.note("some request frames are too short to carry a header and were not checked")
            }
        }
    }

    // MARK: - Conveniences

    /// Checks every record of a sequence.
    public static func check<S: Sequence>(_ records: S, configuration: CheckConfiguration = CheckConfiguration())
        -> CheckReport where S.Element == CaptureRecord
    {
        let engine = CheckEngine(configuration: configuration)
        for r in records { engine.process(r) }
        return engine.finish()
    }

    /// Checks a capture file (all its segments). A torn tail ends the capture (noted in the report);
    /// I/O errors throw.
    public static func check(reader: CaptureReader, configuration: CheckConfiguration = CheckConfiguration())
        throws(CaptureError) -> CheckReport
    {
        let engine = CheckEngine(configuration: configuration)
        while let r = try reader.next() { engine.process(r) }
        if let torn = reader.tornTail {
            engine.context.note("the capture has a torn tail (\(torn)); records after it were not checked")
        }
        return engine.finish()
    }
}

/// Keeps findings up to a limit per invariant and counts them all.
struct FindingCollector {
    let limit: Int
    private(set) var kept: [Finding] = []
    private(set) var counts: [InvariantID: Int] = [:]

    init(limit: Int) { self.limit = limit }

    mutating func add(_ findings: [Finding]) {
        for f in findings {
            let n = counts[f.invariant, default: 0]
            counts[f.invariant] = n + 1
            if limit <= 0 || n < limit { kept.append(f) }
        }
    }

    /// By invariant, then by time of the first exchange involved, stable otherwise.
    var sortedFindings: [Finding] {
        kept.enumerated().sorted { a, b in
            if a.element.invariant != b.element.invariant { return a.element.invariant < b.element.invariant }
            let ta = a.element.exchanges.first?.timeNs ?? .max
            let tb = b.element.exchanges.first?.timeNs ?? .max
            return ta != tb ? ta < tb : a.offset < b.offset
        }.map(\.element)
    }
}
