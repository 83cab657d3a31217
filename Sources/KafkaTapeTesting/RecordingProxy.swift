import Foundation
import KafkaTape

/// What a recording proxy did, returned by `withRecordingProxy`'s variants that report it.
public struct RecordingSummary: Sendable {
    /// Connections, requests per API key, bytes each way.
    public var statistics: ProxyStatistics.Snapshot
    /// Upstream node id -> the proxy port its clients were sent to.
    public var nodePorts: [Int32: Int]
}

/// Runs `kafkatape record` in-process: a proxy on a free loopback port in front of `upstream`
/// (`"host:port"`), writing every frame to `capture` (a new file; an existing one is an error unless
/// `overwrite`). `body` gets the proxy's bootstrap address; when it returns, the proxy stops and the
/// capture is closed, complete and readable.
///
/// - Parameters:
///   - upstreamNodes: where to really connect for broker nodes (`NodeAddressMap(everyNode: ...)` for a
///     gateway that advertises an address you cannot reach).
@discardableResult
public func withRecordingProxy<T>(
    upstream: String, capture path: String, overwrite: Bool = false, upstreamNodes: NodeAddressMap = NodeAddressMap(),
    _ body: (String) async throws -> T
) async throws -> T {
    let sink = try FileCaptureSink(
        path: path, header: CaptureHeader.recording(upstream: upstream), overwrite: overwrite)
    do {
        let result = try await withRecordingProxy(upstream: upstream, sink: sink, upstreamNodes: upstreamNodes) { address, _ in
            try await body(address)
        }
        try sink.close()
        return result
    } catch {
        try? sink.close()
        throw error
    }
}

/// `withRecordingProxy` into any sink (an `InMemoryCaptureSink` for a capture that never touches the
/// disk). The body also gets the running proxy (its statistics, node ports).
@discardableResult
public func withRecordingProxy<T>(
    upstream: String, sink: any ProxyCaptureSink, upstreamNodes: NodeAddressMap = NodeAddressMap(),
    _ body: (String, KafkaProxyServer) async throws -> T
) async throws -> T {
    guard let upstreamAddress = HostPort(upstream), upstreamAddress.port > 0 else {
        throw KafkaTapeTestingError("upstream must be HOST:PORT, got '\(upstream)'")
    }
    let listen = HostPort(host: "127.0.0.1", port: 0)
    let server = KafkaProxyServer(
        configuration: ProxyConfiguration(listen: listen, upstream: upstreamAddress, upstreamNodes: upstreamNodes), capture: sink)
    try await server.start()
    let address = HostPort(host: "127.0.0.1", port: server.bootstrapPort).description
    do {
        let result = try await body(address, server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// A usage error of the testing helpers (a bad address, a bad mode).
public struct KafkaTapeTestingError: Error, CustomStringConvertible, Sendable {
    /// What was wrong, in one line.
    public var description: String
    /// An error that says `description`.
    public init(_ description: String) { self.description = description }
}

extension CaptureHeader {
    /// The header of a capture recorded by the testing helpers.
    static func recording(upstream: String) -> CaptureHeader {
        CaptureHeader(
            toolVersion: "KafkaTapeTesting", startTime: SystemCaptureClock().now(), listenAddress: "127.0.0.1:0",
            upstreamAddress: upstream)
    }
}
