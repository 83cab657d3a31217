import Foundation
import Logging
import ServiceLifecycle

/// Runs `body` as the one service of a swift-service-lifecycle `ServiceGroup` that turns SIGINT and
/// SIGTERM into a graceful shutdown: `record`, `serve` and `sniff` run this way.
///
/// The group traps both signals before `body` starts, so `body` announces readiness (the "listening"
/// line, `--ready-file`) only once a signal can no longer kill the process: a SIGINT sent as soon as
/// that line appears stops it gracefully. `body` learns of the shutdown through `StopLatch.wait(or:)`
/// (or any of ServiceLifecycle's graceful-shutdown helpers) and does its own teardown and summary, so
/// whatever it throws — a `UsageError`, `FindingsExit` — is what the command exits with.
func runUntilStopped(_ body: @escaping () async throws -> Void) async throws {
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            // A body that returns by itself (sniff's --duration, serve's session played through) ends the
            // group; the default, cancelGroup, would call that an unexpected finish and throw.
            services: [.init(service: CommandService(body: body), successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            // The group logs signals and service exits at debug level only; the command says it itself.
            logger: Logger(label: "kafkatape", factory: { _ in SwiftLogNoOpLogHandler() })))
    try await group.run()
}

/// A command's body as a `Service`. Unchecked because the body captures the parsed command, which is
/// not `Sendable`; the group calls `run()` once, on one task, and nothing else touches the body.
private struct CommandService: Service, @unchecked Sendable {
    let body: () async throws -> Void

    func run() async throws { try await body() }
}

/// Why a command stops, set once by whichever comes first: a graceful shutdown (SIGINT/SIGTERM), or
/// something the command watches itself (a capture error, the session played through).
final class StopLatch: @unchecked Sendable {
    // NSLock, not a Mutex: the package still builds for macOS 14.
    private let lock = NSLock()
    private var continuation: CheckedContinuation<String, Never>?
    private var fired: String?

    init() {}

    /// Sets the reason, if none was set yet, and wakes the waiter.
    func fire(_ reason: String) {
        lock.lock()
        if fired == nil { fired = reason }
        let reason = fired ?? reason
        let c = continuation
        continuation = nil
        lock.unlock()
        c?.resume(returning: reason)
    }

    /// The reason, as soon as there is one; a graceful shutdown of the service group is one, named
    /// `shutdownReason`, and so is cancellation.
    func wait(orShutdown shutdownReason: String = "SIGINT/SIGTERM") async -> String {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (c: CheckedContinuation<String, Never>) in
                    lock.lock()
                    if let fired {
                        lock.unlock()
                        c.resume(returning: fired)
                        return
                    }
                    continuation = c
                    lock.unlock()
                }
            } onGracefulShutdown: {
                self.fire(shutdownReason)
            }
        } onCancel: {
            self.fire("cancelled")
        }
    }
}

/// Runs blocking work (libpcap's capture loop) on a thread of its own, so it holds none of the few
/// threads of Swift's cooperative pool that the service group's signal handling needs.
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            c.resume(with: Result { try work() })
        }
        thread.start()
    }
}
