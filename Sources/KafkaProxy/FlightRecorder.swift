import KafkaCapture
import KafkaProtocol
import NIOCore

/// What makes the flight recorder write a connection's ring to the capture (`--trigger SPEC`).
public enum FlightTrigger: Hashable, Sendable, CustomStringConvertible {
    /// A response carrying this error code anywhere (any non-zero code when nil).
    case errorCode(Int16?)
    /// A response slower than this many milliseconds.
    case latency(ms: Int)
    /// The broker closed the connection, or the proxy had to.
    case disconnect
    /// A live invariant: I13 (responses out of order or unmatched) or I14 (a response that does not decode).
    case check(String)

    /// The accepted `--trigger` forms, for help and error messages.
    public static let specHelp = "error-code[:CODE] | latency:MS | disconnect | check:I13 | check:I14"
    /// The invariants the proxy can evaluate while forwarding; the others need the whole capture (`kafkatape check`).
    public static let liveChecks: Set<String> = ["I13", "I14"]

    /// Parses a `--trigger` spec; the error names the spec and the accepted forms.
    public init(spec: String) throws(ProxyFault.ParseError) {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> ProxyFault.ParseError {
            ProxyFault.ParseError(description: "bad --trigger '\(spec)': \(why); expected \(Self.specHelp)")
        }
        switch (parts[0], parts.count) {
        case ("error-code", 1): self = .errorCode(nil)
        case ("error-code", 2):
            guard let c = Int16(parts[1]) else { throw fail("CODE must be a Kafka error code number") }
            self = .errorCode(c)
        case ("latency", 2):
            guard let ms = Int(parts[1]), ms >= 0 else { throw fail("MS must be a non-negative integer") }
            self = .latency(ms: ms)
        case ("disconnect", 1): self = .disconnect
        case ("check", 2):
            guard Self.liveChecks.contains(parts[1]) else {
                throw fail("only \(Self.liveChecks.sorted().joined(separator: ", ")) can run live; run `kafkatape check` on the capture for the others")
            }
            self = .check(parts[1])
        default: throw fail("unknown trigger")
        }
    }

    /// The trigger as a `--trigger` spec (parses back to the same trigger).
    public var description: String {
        switch self {
        case .errorCode(let c): return c.map { "error-code:\($0)" } ?? "error-code"
        case .latency(let ms): return "latency:\(ms)"
        case .disconnect: return "disconnect"
        case .check(let id): return "check:\(id)"
        }
    }
}

/// One connection's flight recorder: keeps the last `ringBytes` of its capture records in memory and
/// hands them over (with the connection-opened record and a note of what was dropped) only when a
/// trigger fires; after that, everything on the connection is recorded directly.
struct FlightRecorder {
    let ringBytes: Int
    private var opened: CaptureRecord?
    private var ring = CircularBuffer<CaptureRecord>()
    private var ringSize = 0
    private var droppedBytes = 0
    private(set) var triggered = false

    init(ringBytes: Int) {
        self.ringBytes = ringBytes
    }

    /// The records to write now (none while untriggered).
    mutating func add(_ record: CaptureRecord) -> [CaptureRecord] {
        if triggered { return [record] }
        if case .connectionOpened = record {
            opened = record
            return []
        }
        let size = record.encodedSize
        ring.append(record)
        ringSize += size
        while ringSize > ringBytes, let first = ring.popFirst() {
            let s = first.encodedSize
            ringSize -= s
            droppedBytes += s
        }
        return []
    }

    /// Fires: everything kept so far, oldest first, then direct recording from here on.
    mutating func fire(_ event: EventRecord) -> [CaptureRecord] {
        guard !triggered else { return [.event(event)] }
        triggered = true
        var out: [CaptureRecord] = []
        if let opened { out.append(opened) }
        var e = event
        if droppedBytes > 0 { e.attributes.append(.init("droppedBytes", String(droppedBytes))) }
        e.attributes.append(.init("ringBytes", String(ringSize)))
        out.append(.event(e))
        out.append(contentsOf: ring)
        ring.removeAll()
        ringSize = 0
        opened = nil
        return out
    }
}
