/// A TCP connection's two endpoints, in a canonical order, so both directions find the same flow.
struct FlowKey: Hashable, Sendable {
    let low: TcpEndpoint
    let high: TcpEndpoint

    init(_ a: TcpEndpoint, _ b: TcpEndpoint) {
        if a < b {
            low = a
            high = b
        } else {
            low = b
            high = a
        }
    }
}
