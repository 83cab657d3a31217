import KafkaEndpoints
import KafkaProtocol

/// How fast replay sends.
public enum ReplayPace: Hashable, Sendable, CustomStringConvertible {
    /// As soon as the recorded order allows.
    case fast
    /// The recorded timeline: each request no earlier than its recorded offset from the first request.
    case original
    /// The recorded timeline sped up by this factor (2 = twice as fast, 0.5 = half speed).
    case scaled(Double)

    /// Parses `fast`, `original`, or a positive factor.
    public init?(_ text: String) {
        switch text.lowercased() {
        case "fast": self = .fast
        case "original": self = .original
        default:
            // A factor far from 1 would stretch a recorded gap past what a 64-bit nanosecond clock holds.
            guard let f = Double(text), f.isFinite, f >= Self.minimumFactor, f <= Self.maximumFactor else { return nil }
            self = f == 1 ? .original : .scaled(f)
        }
    }

    /// The slowest factor `--pace` takes (a thousand times slower than recorded).
    public static let minimumFactor = 0.001
    /// The fastest factor `--pace` takes.
    public static let maximumFactor = 1_000_000.0

    /// The speed factor, or nil for `fast`.
    var factor: Double? {
        switch self {
        case .fast: return nil
        case .original: return 1
        case .scaled(let f): return f
        }
    }

    /// `fast`, `original` or `Nx`, as `--pace` takes it.
    public var description: String {
        switch self {
        case .fast: return "fast"
        case .original: return "original"
        case .scaled(let f): return "\(f)x"
        }
    }
}

/// Everything replay needs besides the capture.
public struct ReplayConfiguration: Sendable {
    /// The bootstrap broker of the target cluster.
    public var target: HostPort
    /// How fast requests go out: as soon as their dependencies allow, at the recorded times, or scaled.
    public var pace: ReplayPace
    /// Replay only these recorded connections (all when empty). Ordering constraints from the others
    /// are dropped.
    public var connections: Set<UInt64>
    /// How long a connection to the target may take before replay gives up.
    public var connectTimeoutMs: Int64
    /// How long a request may wait for its response before replay gives up.
    public var responseTimeoutMs: Int64
    /// The largest response frame accepted from the target.
    public var maxFrameBytes: Int
    /// Where to connect for the target's nodes instead of the addresses its Metadata advertises
    /// (`--target-node`).
    public var targetNodes: NodeAddressMap

    /// A configuration for `target` with the command line's defaults (fast, all connections, 5 s connect, 60 s response timeout).
    public init(
        target: HostPort, pace: ReplayPace = .fast, connections: Set<UInt64> = [], connectTimeoutMs: Int64 = 5_000,
        responseTimeoutMs: Int64 = 60_000, maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes,
        targetNodes: NodeAddressMap = NodeAddressMap()
    ) {
        self.targetNodes = targetNodes
        self.target = target
        self.pace = pace
        self.connections = connections
        self.connectTimeoutMs = connectTimeoutMs
        self.responseTimeoutMs = responseTimeoutMs
        self.maxFrameBytes = maxFrameBytes
    }
}
