import Foundation
import KafkaTape

/// What a cassette does, as VCR's record modes: `KAFKATAPE_MODE=record|replay|auto` overrides the
/// mode a test asks for, so a whole suite can be re-recorded against a live broker, or forced to
/// run from its captures alone (CI).
public enum KafkaCassetteMode: String, Sendable, CaseIterable {
    /// Always record against the upstream, replacing the capture.
    case record
    /// Always serve the capture; a missing capture is an error.
    case replay
    /// Serve the capture when it exists, record it when it does not.
    case auto

    /// The mode `KAFKATAPE_MODE` names, if it is set (an unknown value is an error, not a silent default).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KafkaCassetteMode? {
        guard let raw = environment["KAFKATAPE_MODE"], !raw.isEmpty else { return nil }
        guard let mode = KafkaCassetteMode(rawValue: raw.lowercased()) else {
            throw KafkaTapeTestingError("KAFKATAPE_MODE must be record, replay or auto, got '\(raw)'")
        }
        return mode
    }
}

/// How a cassette ran.
public enum KafkaCassetteOutcome: Sendable, Equatable {
    /// The body ran against the upstream through a recording proxy; the capture was written.
    case recorded
    /// The body ran against a mock broker serving the capture, with no misses.
    case replayed
}

/// VCR for Kafka: runs `body` with a bootstrap address that is either a recording proxy in front of
/// `upstream` (the capture at `path` is written) or a mock broker serving the capture at `path`,
/// as `mode` (overridden by `KAFKATAPE_MODE`) says. In replay, a request the recording lacks fails
/// the test (`MockBrokerMisses`).
///
/// ```swift
/// let outcome = try await withKafkaCassette("Fixtures/orders.ktape", upstream: "127.0.0.1:9092") { bootstrap in
///     try await runOrdersClient(bootstrap)
/// }
/// ```
@discardableResult
public func withKafkaCassette(
    _ path: String, upstream: String, mode: KafkaCassetteMode = .auto,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    upstreamNodes: NodeAddressMap = NodeAddressMap(), _ body: (String) async throws -> Void
) async throws -> KafkaCassetteOutcome {
    let effective = try KafkaCassetteMode.fromEnvironment(environment) ?? mode
    let exists = FileManager.default.fileExists(atPath: path)
    switch effective {
    case .record:
        try await withRecordingProxy(upstream: upstream, capture: path, overwrite: true, upstreamNodes: upstreamNodes, body)
        return .recorded
    case .replay:
        guard exists else { throw KafkaTapeTestingError("cassette \(path) does not exist (KAFKATAPE_MODE=replay never records)") }
        try await withMockBroker(capture: path, body)
        return .replayed
    case .auto:
        if exists {
            try await withMockBroker(capture: path, body)
            return .replayed
        }
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try await withRecordingProxy(upstream: upstream, capture: path, upstreamNodes: upstreamNodes, body)
        return .recorded
    }
}
