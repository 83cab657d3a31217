import KafkaProxy
import KafkaReplay
import ServiceLifecycle

extension KafkaProxyServer: Service {
    /// Listens until the service group shuts down gracefully (or the task is cancelled), then stops:
    /// every connection is closed and the capture sink is left to its owner to close.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }
}

extension CaptureServer: Service {
    /// Serves until the service group shuts down gracefully (or the task is cancelled), then stops.
    public func run() async throws {
        try await start()
        try? await gracefulShutdown()
        await stop()
    }
}
