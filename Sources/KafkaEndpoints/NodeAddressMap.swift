/// Where to really connect for a broker node, whatever the broker advertises: `NODE=HOST:PORT`
/// entries as users type them for `record --upstream-node` and `replay`/`matrix --target-node`.
///
/// A gateway that advertises an address the proxy (or replay) cannot reach — SeaweedFS's Kafka
/// gateway always advertises `127.0.0.1:9093`, whatever port it listens on — can still be reached:
/// `*=127.0.0.1:PORT` sends every node to one address, `1=HOST:PORT` one node. A node id entry wins
/// over `*`.
public struct NodeAddressMap: Hashable, Sendable, CustomStringConvertible {
    /// Addresses for single node ids.
    public var nodes: [Int32: HostPort]
    /// The address for every node without an entry of its own (`*`).
    public var everyNode: HostPort?

    /// No overrides: connect where the broker says.
    public init(nodes: [Int32: HostPort] = [:], everyNode: HostPort? = nil) {
        self.nodes = nodes
        self.everyNode = everyNode
    }

    /// Parses repeated `NODE=HOST:PORT` specs (NODE a node id or `*`); the error names the bad spec.
    public init(parsing specs: [String], option: String) throws(NodeAddressMapError) {
        self.init()
        for spec in specs {
            guard let eq = spec.firstIndex(of: "=") else { throw NodeAddressMapError(option: option, spec: spec) }
            let node = spec[..<eq].trimmingCharacters(in: " ")
            guard let address = HostPort(String(spec[spec.index(after: eq)...])), address.port > 0 else {
                throw NodeAddressMapError(option: option, spec: spec)
            }
            if node == "*" {
                guard everyNode == nil else { throw NodeAddressMapError(option: option, spec: spec, duplicate: true) }
                everyNode = address
            } else if let id = Int32(node) {
                guard nodes[id] == nil else { throw NodeAddressMapError(option: option, spec: spec, duplicate: true) }
                nodes[id] = address
            } else {
                throw NodeAddressMapError(option: option, spec: spec)
            }
        }
    }

    /// True when nothing is overridden.
    public var isEmpty: Bool { nodes.isEmpty && everyNode == nil }

    /// The address to use for `nodeId`, or nil to use the advertised one.
    public func address(forNode nodeId: Int32) -> HostPort? {
        nodes[nodeId] ?? everyNode
    }

    /// `1=127.0.0.1:9093, *=127.0.0.1:9092`.
    public var description: String {
        var parts = nodes.keys.sorted().compactMap { id in nodes[id].map { "\(id)=\($0)" } }
        if let everyNode { parts.append("*=\(everyNode)") }
        return parts.joined(separator: ", ")
    }
}

/// A `NODE=HOST:PORT` spec that does not parse.
public struct NodeAddressMapError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The option the spec came from (`--upstream-node`, `--target-node`), for the message.
    public var option: String
    /// The spec as given.
    public var spec: String
    /// True when the spec is well-formed but names a node a second time.
    public var duplicate: Bool

    /// An error about `spec` of `option`; `duplicate` for a node given twice.
    public init(option: String, spec: String, duplicate: Bool = false) {
        self.option = option
        self.spec = spec
        self.duplicate = duplicate
    }

    /// One line naming the option, what is wrong and the spec.
    public var description: String {
        duplicate
            ? "\(option): node given twice in '\(spec)'"
            : "\(option) must be NODE=HOST:PORT (NODE a node id or *), got '\(spec)'"
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = self
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
