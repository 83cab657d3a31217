import KafkaCapture
import KafkaEndpoints
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaReplay

/// The replay's decisions without sockets or clocks: events in, actions out.
@Suite struct ReplaySchedulerTests {
    static let target = HostPort(host: "127.0.0.1", port: 9092)

    /// conn 1 (bootstrap): ApiVersions, Metadata (node 1 at 9093). conn 2 (node 1), after the Metadata
    /// answer: Fetch, 100 ms after the first request.
    func plan() -> ReplayPlan {
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9093)]), apiKey: 3, version: 12, correlationId: 2)
        b.advance(100_000_000)
        b.open(2, node: 1)
        b.exchange(2, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: Messages.batch(["a"]), highWatermark: 1), apiKey: 1, version: 12, correlationId: 1)
        b.close(2)
        b.close(1)
        return ReplayPlan(session: b.session)
    }

    func sends(_ actions: [ReplayScheduler.Action]) -> [(Int, Int)] {
        actions.compactMap { if case .send(let c, let s, _, _) = $0 { return (c, s) } else { return nil } }
    }

    func response(_ body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32) -> ByteBuffer {
        SessionBuilder.responsePayload(body, apiKey: apiKey, version: version, correlationId: correlationId)
    }

    @Test func opensSendsWaitsAndFinishesInTheRecordedOrder() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target))
        #expect(s.start(nowNs: 0) == [.connect(connection: 0, address: Self.target)])
        let first = s.connected(0, nowNs: 1)
        #expect(sends(first).map { $0.1 } == [0], "Metadata was sent after the ApiVersions answer: it waits for it")
        // The node connection waits for the Metadata answer, which names node 1.
        var a = s.responseArrived(0, correlationId: 1, payload: response(ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1), nowNs: 2)
        #expect(sends(a).map { $0.1 } == [1])
        #expect(!a.contains { if case .connect = $0 { return true } else { return false } })
        a = s.responseArrived(
            0, correlationId: 2, payload: response(Messages.metadataResponse(brokers: [(1, 9093)]), apiKey: 3, version: 12, correlationId: 2),
            nowNs: 3)
        #expect(a.contains(.connect(connection: 1, address: HostPort(host: "127.0.0.1", port: 9093))))
        // conn 1 is done: every request sent, every answer back, and the client had closed it.
        #expect(a.contains(.close(connection: 0)))
        a = s.connected(1, nowNs: 4)
        #expect(sends(a).map { $0.0 } == [1])
        a = s.responseArrived(
            1, correlationId: 1,
            payload: response(Messages.fetchResponse(records: Messages.batch(["a"]), highWatermark: 1), apiKey: 1, version: 12, correlationId: 1),
            nowNs: 5)
        #expect(a.contains(.close(connection: 1)))
        #expect(a.last == .finish)
        let report = s.report(elapsedNs: 5)
        #expect(report.completed && report.requestsSent == 3 && report.responsesReceived == 3 && report.connectionsOpened == 2)
    }

    @Test func originalPaceWaitsForTheRecordedOffset() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target, pace: .original))
        _ = s.start(nowNs: 1_000)
        #expect(sends(s.connected(0, nowNs: 1_000)).count == 1)
        // Metadata was recorded 2 ms after the first request; its dependency is met at once, its time is not.
        let a = s.responseArrived(0, correlationId: 1, payload: response(ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1), nowNs: 2_000)
        #expect(sends(a).isEmpty)
        let wake = a.compactMap { if case .wake(let at) = $0 { return at } else { return nil } }.first ?? UInt64(0)
        #expect(wake >= 1_000 + 2_000_000 && wake < 1_000 + 3_000_000, "\(wake)")
        #expect(s.wake(nowNs: 1_000_000).isEmpty, "too early: nothing to do, the wake-up stands")
        #expect(sends(s.wake(nowNs: wake)).map { $0.1 } == [1])
        // Twice as fast: the same offset falls due at half the time.
        var fast = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target, pace: .scaled(2)))
        _ = fast.start(nowNs: 0)
        _ = fast.connected(0, nowNs: 0)
        let b = fast.responseArrived(0, correlationId: 1, payload: response(ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1), nowNs: 1)
        let fastWake = b.compactMap { if case .wake(let at) = $0 { return at } else { return nil } }.first ?? UInt64(0)
        #expect(fastWake == (wake - 1_000) / 2)
    }

    @Test func outputBackpressureHoldsRequests() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target))
        _ = s.start(nowNs: 0)
        #expect(s.outputBackpressure(true, nowNs: 0).isEmpty)
        #expect(sends(s.connected(0, nowNs: 1)).isEmpty, "nothing is sent while the capture writer is behind")
        #expect(sends(s.outputBackpressure(false, nowNs: 2)).count == 1)
    }

    @Test func aMissingAnswerFailsTheReplay() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target, responseTimeoutMs: 5))
        _ = s.start(nowNs: 0)
        let sent = s.connected(0, nowNs: 1)
        guard case .send(_, _, _, let await_)? = sent.first else {
            Issue.record("nothing sent: \(sent)")
            return
        }
        #expect(await_)
        let a = s.deadlinePassed(0, step: 0)
        #expect(a.last == .finish)
        #expect(s.failure == .noResponse(connection: 1, correlationId: 1, api: "ApiVersions", waitedMs: 5))
        #expect(s.deadlinePassed(0, step: 1).isEmpty, "one failure is enough")
    }

    @Test func theTargetClosingWithAnswersOutstandingFailsTheReplay() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target))
        _ = s.start(nowNs: 0)
        _ = s.connected(0, nowNs: 1)
        let a = s.closed(0, nowNs: 2)
        #expect(a.last == .finish)
        #expect(s.failure == .connectionLost(connection: 1, outstanding: 1))
    }

    @Test func anUnreachableTargetFailsWithAnEvent() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target))
        _ = s.start(nowNs: 0)
        let a = s.connectFailed(0, address: Self.target, reason: "refused")
        #expect(a.first.map { if case .event(let kind, _, _, _) = $0 { return kind == .upstreamUnreachable } else { return false } } == true)
        #expect(s.failure == .targetUnreachable(address: "127.0.0.1:9092", connection: 1, reason: "refused"))
    }

    @Test func aResponseMatchingNoRequestIsAWarning() {
        var s = ReplayScheduler(plan: plan(), configuration: ReplayConfiguration(target: Self.target))
        _ = s.start(nowNs: 0)
        _ = s.connected(0, nowNs: 1)
        #expect(s.responseArrived(0, correlationId: 99, payload: ByteBuffer(), nowNs: 2).isEmpty)
        #expect(s.warnings.count == 1)
    }
}
