import KafkaProtocol
import Testing

@testable import KafkaCapture

/// The text summary names what a message is about and shows its error codes, for any API, from the
/// decoded value tree alone (no code per API).
@Suite struct ExchangeSummaryTests {
    @Test func createTopicsShowsTopicNamesAndErrorsButNotConfigKeys() {
        var request = CreateTopicsRequest()
        for name in ["orders", "payments"] {
            var t = CreateTopicsRequest.CreatableTopic()
            t.name = name
            var c = CreateTopicsRequest.CreatableTopicConfig()
            c.name = "cleanup.policy"
            c.value = "compact"
            t.configs = [c]
            request.topics.append(t)
        }
        let requestSummary = ExchangeSummary.summarize(request.kafkaValue(version: 5))
        #expect(requestSummary == "orders payments", "\(requestSummary)")

        var response = CreateTopicsResponse()
        var ok = CreateTopicsResponse.CreatableTopicResult()
        ok.name = "orders"
        var exists = CreateTopicsResponse.CreatableTopicResult()
        exists.name = "payments"
        exists.errorCode = 36
        response.topics = [ok, exists]
        let summary = ExchangeSummary.summarize(response.kafkaValue(version: 5))
        #expect(summary == "orders payments error=TOPIC_ALREADY_EXISTS", "\(summary)")
    }

    @Test func metadataShowsRequestedTopicsAndTopicErrors() {
        var request = MetadataRequest()
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = "orders"
        request.topics = [t]
        #expect(ExchangeSummary.summarize(request.kafkaValue(version: 9)) == "orders")

        var response = MetadataResponse()
        var broker = MetadataResponse.MetadataResponseBroker()
        broker.nodeId = 1
        broker.host = "localhost"
        response.brokers = [broker]
        var missing = MetadataResponse.MetadataResponseTopic()
        missing.name = "orders"
        missing.errorCode = 3
        var present = MetadataResponse.MetadataResponseTopic()
        present.name = "payments"
        var p = MetadataResponse.MetadataResponsePartition()
        p.partitionIndex = 0
        p.leaderId = 1
        present.partitions = [p]
        response.topics = [missing, present]
        let summary = ExchangeSummary.summarize(response.kafkaValue(version: 9))
        #expect(summary == "orders error=UNKNOWN_TOPIC_OR_PARTITION payments[0] LeaderId=1", "\(summary)")
    }

    @Test func groupResultsCarryTheirNames() {
        var response = DeleteGroupsResponse()
        var a = DeleteGroupsResponse.DeletableGroupResult()
        a.groupId = "billing"
        var b = DeleteGroupsResponse.DeletableGroupResult()
        b.groupId = "audit"
        b.errorCode = 69
        response.results = [a, b]
        let summary = ExchangeSummary.summarize(response.kafkaValue(version: 2))
        #expect(summary == "billing audit error=\(KafkaErrorCode.name(69))", "\(summary)")
    }

    /// An error with no name anywhere near it still shows, and a top-level error too.
    @Test func everyNonZeroErrorCodeShows() {
        let value = KafkaValue.object(
            KafkaObject([
                ("ErrorCode", .int(15)),
                ("Entries", .array([.object(KafkaObject([("ErrorCode", .int(29)), ("Weight", .int(3))]))])),
            ]))
        let summary = ExchangeSummary.summarize(value)
        #expect(summary == "error=\(KafkaErrorCode.name(15)) error=\(KafkaErrorCode.name(29))", "\(summary)")
    }
}
