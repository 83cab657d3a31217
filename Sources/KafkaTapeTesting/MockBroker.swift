import Foundation
import KafkaTape

/// Requests a mock broker could not answer from its capture, thrown by `withMockBroker` when the
/// body returns: a test that sent something the recording never saw fails with what and why.
public struct MockBrokerMisses: Error, CustomStringConvertible, Sendable {
    /// The whole serve report (connections, answered, repeats, misses with their nearest recording).
    public let report: ServeReport

    /// How many requests were missed, then the serve report's summary, one line each.
    public var description: String {
        "the mock broker missed \(report.misses.count) request(s):\n" + report.summaryLines.joined(separator: "\n")
    }
}

/// Serves `capture` in-process as a mock Kafka broker on a free loopback port, runs `body` with its
/// bootstrap address (`"127.0.0.1:PORT"`), stops the broker, and throws `MockBrokerMisses` when any
/// request did not match the recording (`ServeConfiguration`'s rules: identifiers and client clocks
/// aside, the same request).
///
/// ```swift
/// try await withMockBroker(capture: "session.ktape") { bootstrap in
///     // point the client under test at bootstrap
/// }
/// ```
///
/// - Parameters:
///   - onMiss: what the broker answers a request it cannot match (`.error`: the nearest recorded answer
///     with UNKNOWN_SERVER_ERROR, so the client fails visibly).
///   - latency: `.none` answers at once (the default for tests); `.fetch` holds Fetch answers as recorded.
///   - allowMisses: report misses in the returned `ServeReport` instead of throwing.
@discardableResult
public func withMockBroker<T>(
    capture path: String, onMiss: ServeMissPolicy = .error, latency: ServeLatency = .none, allowMisses: Bool = false,
    _ body: (String) async throws -> T
) async throws -> T {
    let session = try RecordedSession.read(path: path)
    let server = CaptureServer(
        session: session,
        configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), onMiss: onMiss, latency: latency))
    try await server.start()
    let result: T
    do {
        result = try await body(server.bootstrapAddress)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
    let report = server.report
    if !allowMisses && !report.misses.isEmpty { throw MockBrokerMisses(report: report) }
    return result
}

/// `withMockBroker` that also hands the body the running server (its `report` so far, its node ports).
@discardableResult
public func withMockBrokerServer<T>(
    capture path: String, onMiss: ServeMissPolicy = .error, latency: ServeLatency = .none,
    _ body: (CaptureServer) async throws -> T
) async throws -> T {
    let session = try RecordedSession.read(path: path)
    let server = CaptureServer(
        session: session,
        configuration: ServeConfiguration(listen: HostPort(host: "127.0.0.1", port: 0), onMiss: onMiss, latency: latency))
    try await server.start()
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
