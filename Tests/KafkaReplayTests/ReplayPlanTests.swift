import KafkaCapture
import KafkaProtocol
import Testing

@testable import KafkaReplay

@Suite struct ReplayPlanTests {
    @Test func requestsDependOnResponsesSeenBeforeThem() {
        var b = SessionBuilder()
        b.open(1)
        b.open(2, node: 1)
        // conn 1: ApiVersions answered, then Metadata answered.
        b.exchange(1, ApiVersionsRequest(), ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.exchange(1, Messages.metadataRequest(["orders"]), Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        // conn 2 sends two pipelined requests, then the answers come.
        b.request(2, ApiVersionsRequest(), apiKey: 18, version: 3, correlationId: 1)
        b.request(2, Messages.metadataRequest([]), apiKey: 3, version: 12, correlationId: 2)
        b.response(2, ApiVersionsResponse(), apiKey: 18, version: 3, correlationId: 1)
        b.response(2, Messages.metadataResponse(brokers: [(1, 9092)]), apiKey: 3, version: 12, correlationId: 2)
        b.request(1, Messages.metadataRequest([]), apiKey: 3, version: 12, correlationId: 3)  // no answer recorded
        b.close(1)
        let plan = ReplayPlan(session: b.session)
        #expect(plan.requestCount == 5)
        let c1 = plan.steps[0]
        let c2 = plan.steps[1]
        #expect(c1[0].dependencies.isEmpty)
        #expect(c1[1].dependencies == [ReplayPlan.Dependency(connection: 0, step: 0)])
        // Both pipelined requests on conn 2 wait only for conn 1's answers.
        #expect(c2[0].dependencies == [ReplayPlan.Dependency(connection: 0, step: 1)])
        #expect(c2[1].dependencies == [ReplayPlan.Dependency(connection: 0, step: 1)])
        #expect(c1[2].dependencies == [ReplayPlan.Dependency(connection: 0, step: 1), ReplayPlan.Dependency(connection: 1, step: 1)])
        #expect(!c1[2].responseRequired)
        #expect(c1[2].expectsResponse)
        #expect(c2[1].offsetNs > c2[0].offsetNs)
    }

    @Test func acksZeroExpectsNothing() {
        var b = SessionBuilder()
        b.open(1)
        var produce = Messages.produceRequest(Messages.batch(["x"]))
        produce.acks = 0
        b.request(1, produce, apiKey: 0, version: 9, correlationId: 1)
        let plan = ReplayPlan(session: b.session)
        #expect(plan.steps[0][0].expectsResponse == false)
        #expect(plan.steps[0][0].responseRequired == false)
    }

    @Test(arguments: [("fast", true), ("original", true), ("2", true), ("0.5", true), ("0", false), ("-1", false), ("slow", false)])
    func paceParses(_ text: String, _ ok: Bool) {
        #expect((ReplayPace(text) != nil) == ok)
    }
}
