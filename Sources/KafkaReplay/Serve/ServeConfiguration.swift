import KafkaEndpoints
import KafkaProtocol

/// What `serve` does with a request that matches nothing recorded.
public enum ServeMissPolicy: String, Hashable, Sendable, CaseIterable {
    /// Answer with the nearest candidate's recorded response with every `ErrorCode` set to
    /// `ServeConfiguration.missErrorCode` (an error every client understands), and log the candidate
    /// with its field differences.
    case error
    /// Close the connection.
    case close
    /// Answer with the nearest candidate's recorded response as it is.
    case nearest
}

/// Which recorded response times `serve` reproduces.
public enum ServeLatency: String, Hashable, Sendable, CaseIterable {
    /// Answer at once.
    case none
    /// Delay Fetch and ShareFetch answers by their recorded latency (a broker holds them for up to
    /// MaxWaitMs when there is no data): clients then poll at the recorded rate instead of spinning.
    case fetch
    /// Delay every answer by its recorded latency.
    case all
}

/// Everything `serve` needs besides the capture (`kafkatape serve` options).
public struct ServeConfiguration: Sendable {
    /// The bootstrap listener.
    public var listen: HostPort
    /// Host written into broker addresses (default: the listen host; 127.0.0.1 for a wildcard).
    public var advertiseHost: String?
    /// Explicit port per recorded node id; others are the listen port + 1 + node id, or ephemeral
    /// when the listen port is 0.
    public var nodePorts: [Int32: Int]
    /// What to do with a request nothing recorded matches (`--on-miss`).
    public var onMiss: ServeMissPolicy
    /// Start over once the recorded session has been played through, instead of finishing.
    public var loop: Bool
    /// How requests are compared with recorded ones: `diff`'s rules plus the client-computed fields.
    public var rules: NormalizationRules
    /// Which recorded latencies to reproduce (`--latency`).
    public var latency: ServeLatency
    /// The error code `ServeMissPolicy.error` answers with: UNKNOWN_SERVER_ERROR by default.
    public var missErrorCode: Int16
    /// The largest request frame accepted from clients.
    public var maxFrameBytes: Int

    /// A configuration listening on `listen`, with the command line's defaults for the rest.
    public init(
        listen: HostPort, advertiseHost: String? = nil, nodePorts: [Int32: Int] = [:], onMiss: ServeMissPolicy = .error,
        loop: Bool = false, rules: NormalizationRules = .serveMatching(), latency: ServeLatency = .fetch,
        missErrorCode: Int16 = -1, maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes
    ) {
        self.listen = listen
        self.advertiseHost = advertiseHost
        self.nodePorts = nodePorts
        self.onMiss = onMiss
        self.loop = loop
        self.rules = rules
        self.latency = latency
        self.missErrorCode = missErrorCode
        self.maxFrameBytes = maxFrameBytes
    }

    /// The host written into broker addresses: `advertiseHost`, else the listen host, with a wildcard
    /// listen address (0.0.0.0, ::) advertised as 127.0.0.1 because clients cannot connect to it.
    public var effectiveAdvertiseHost: String {
        if let advertiseHost { return advertiseHost }
        if listen.host == "0.0.0.0" || listen.host == "::" { return "127.0.0.1" }
        return listen.host
    }

    func derivedNodePort(nodeId: Int32, bootstrapPort: Int) -> Int {
        if let p = nodePorts[nodeId] { return p }
        if listen.port == 0 { return 0 }
        let candidate = bootstrapPort + 1 + Int(nodeId)
        return nodeId >= 0 && candidate <= 65535 ? candidate : 0
    }
}
