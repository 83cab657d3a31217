import KafkaEndpoints
import KafkaProtocol

/// Everything `kafkatape record` decides before it starts listening.
public struct ProxyConfiguration: Sendable {
    /// The bootstrap listener clients are pointed at.
    public var listen: HostPort
    /// The broker or gateway the bootstrap listener forwards to.
    public var upstream: HostPort
    /// Host written into rewritten Metadata/FindCoordinator/DescribeCluster answers (default: the listen host).
    public var advertiseHost: String?
    /// Largest frame accepted from either side; a larger size prefix disconnects the sender.
    public var maxFrameBytes: Int
    /// Explicit proxy port per upstream node id; others are derived from the bootstrap port.
    public var nodePorts: [Int32: Int]
    /// Where to connect for upstream nodes instead of the address the broker advertises (`--upstream-node`).
    public var upstreamNodes: NodeAddressMap
    /// Keep SASL and delegation-token payloads in the capture instead of redacting them.
    public var keepCredentials: Bool
    /// Connect timeout to the upstream.
    public var connectTimeoutMs: Int64
    /// Gateway bugs to stage (`--fault`).
    public var faults: [ProxyFault]
    /// Seed for the faults' randomness (`--seed`).
    public var seed: UInt64
    /// Flight-recorder mode: keep this many bytes per connection in memory, write them only on a trigger.
    public var ringBytes: Int?
    /// What makes a connection's flight-recorder ring go to the capture (`--trigger`); unused without `ringBytes`.
    public var triggers: [FlightTrigger]
    /// TLS to clients and/or to the upstream.
    public var tls: ProxyTLS
    /// Bytes all connections together may hold in incomplete frames (`--max-buffered-bytes`, 0: no
    /// limit); a frame that does not fit is refused and its connection closed, with an event.
    public var maxBufferedBytes: Int
    /// A frame whose first byte arrived must be complete within this many milliseconds
    /// (`--frame-timeout`, nil: never), or the connection is closed with an event.
    public var frameTimeoutMs: Int64?
    /// A connection with no bytes either way for this many milliseconds is closed with an event
    /// (`--idle-timeout`, nil: never).
    public var idleTimeoutMs: Int64?

    /// 30 s: Kafka clients' `request.timeout.ms` default. A client that has not finished sending a
    /// request by then has given up on it; a frame stuck that long only pins memory and a socket.
    public static let defaultFrameTimeoutMs: Int64 = 30_000
    /// 10 min: the broker's `connections.max.idle.ms` default, so the proxy never closes a connection
    /// the broker would have kept (clients use 9 min, closing first on their side).
    public static let defaultIdleTimeoutMs: Int64 = 600_000

    /// A configuration with the `record` command's defaults for everything not given.
    public init(
        listen: HostPort, upstream: HostPort, advertiseHost: String? = nil,
        maxFrameBytes: Int = KafkaFramer.defaultMaxFrameBytes, nodePorts: [Int32: Int] = [:],
        upstreamNodes: NodeAddressMap = NodeAddressMap(), keepCredentials: Bool = false, connectTimeoutMs: Int64 = 10_000, faults: [ProxyFault] = [], seed: UInt64 = 0,
        ringBytes: Int? = nil, triggers: [FlightTrigger] = [], tls: ProxyTLS = ProxyTLS(),
        maxBufferedBytes: Int = BufferBudget.defaultLimit, frameTimeoutMs: Int64? = ProxyConfiguration.defaultFrameTimeoutMs,
        idleTimeoutMs: Int64? = ProxyConfiguration.defaultIdleTimeoutMs
    ) {
        self.maxBufferedBytes = maxBufferedBytes
        self.frameTimeoutMs = frameTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.tls = tls
        self.ringBytes = ringBytes
        self.triggers = triggers
        self.faults = faults
        self.seed = seed
        self.listen = listen
        self.upstream = upstream
        self.advertiseHost = advertiseHost
        self.maxFrameBytes = maxFrameBytes
        self.nodePorts = nodePorts
        self.upstreamNodes = upstreamNodes
        self.keepCredentials = keepCredentials
        self.connectTimeoutMs = connectTimeoutMs
    }

    /// The host written into rewritten broker addresses: `advertiseHost`, else the listen host, with a
    /// wildcard listen address (0.0.0.0, ::) advertised as 127.0.0.1 because clients cannot connect to it.
    public var effectiveAdvertiseHost: String {
        if let advertiseHost { return advertiseHost }
        if listen.host == "0.0.0.0" || listen.host == "::" { return "127.0.0.1" }
        return listen.host
    }

    /// The proxy port for node `nodeId` when the bootstrap listens on `bootstrapPort`: an explicit
    /// `nodePorts` entry, else `bootstrapPort + 1 + nodeId` for every non-negative id that fits below
    /// 65536 (one-to-one, so two nodes never want the same derived port; Kafka's auto-assigned ids,
    /// 1001 and up, land 1002 ports above the bootstrap), else nil: a free port, announced with a
    /// warning. With an ephemeral bootstrap (port 0) node ports are ephemeral too.
    public func derivedNodePort(nodeId: Int32, bootstrapPort: Int) -> Int? {
        if let p = nodePorts[nodeId] { return p }
        if listen.port == 0 { return 0 }
        guard nodeId >= 0 else { return nil }
        let candidate = bootstrapPort + 1 + Int(nodeId)
        return candidate <= 65535 ? candidate : nil
    }
}
