import KafkaCapture
import KafkaCheck
import KafkaProtocol
import Testing

/// `check` over the golden sessions: kafka-python and librdkafka (confluent-kafka) against Tansu
/// 0.6.0. The clients behave; every finding is Tansu's own behaviour, asserted exactly so that a
/// change in either shows up here (and is described in docs/check.md). I22-I33 and I14's
/// re-encoding find nothing in these sessions (asserted by the exact id sets below).
@Suite struct GoldenFixtureCheckTests {
    /// Tagged fields Tansu sends at their defaults (I16, lint). ApiVersions v3+ answers carry all four
    /// of its tagged fields (SupportedFeatures [], FinalizedFeaturesEpoch -1, FinalizedFeatures [],
    /// ZkMigrationReady false); CreateTopics v5+ carries TopicConfigErrorCode 0; Fetch v16 carries an
    /// empty NodeEndpoints.
    static let tansuTaggedDefaults: Set<String> = [
        "ApiVersionsResponse.SupportedFeatures", "ApiVersionsResponse.FinalizedFeaturesEpoch",
        "ApiVersionsResponse.FinalizedFeatures", "ApiVersionsResponse.ZkMigrationReady",
        "CreateTopicsResponse.Topics.TopicConfigErrorCode", "FetchResponse.NodeEndpoints",
    ]

    /// Sessions where kafka-python asks ListOffsets LATEST after reading everything back: Tansu
    /// answers the last batch's base offset + 1 instead of the high watermark.
    static let latestQuirk: [String: (topic: String, answered: String, highWatermark: String)] = [
        "kafka-python-produce-consume": ("kp-produce-consume", "6", "10"),  // two batches of 5
        "kafka-python-compression-gzip": ("kp-gzip", "1", "20"),  // one batch of 20
    ]

    @Test func thereAreFixtures() {
        #expect(GoldenFixtures.sessionNames.count >= 9)
    }

    @Test(arguments: GoldenFixtures.sessionNames)
    func onlyTansuBehaviourIsReported(_ session: String) throws {
        let report = CheckEngine.check(try GoldenFixtures.records(session))
        let text = report.text(capturePath: session)
        // I16: Tansu's tagged defaults, always from the broker, at least the ApiVersions ones.
        let lint = report.findings(InvariantID(16))
        #expect(lint.allSatisfy { $0.details["side"] == "broker" }, "\(text)")
        let fields = Set(lint.compactMap { $0.details["field"] })
        #expect(fields.isSubset(of: Self.tansuTaggedDefaults), "\(text)")
        #expect(fields.contains("ApiVersionsResponse.FinalizedFeaturesEpoch"))
        if let quirk = Self.latestQuirk[session] {
            #expect(report.ids == [6, 7, 16], "\(text)")
            let i7 = try #require(report.first(7))
            #expect(i7.details["topic"] == quirk.topic)
            #expect(i7.details["listOffsets"] == quirk.answered)
            #expect(i7.details["highWatermark"] == quirk.highWatermark)
            #expect(i7.exchanges.map(\.apiName) == ["ListOffsets", "Fetch"])
            let i6 = try #require(report.first(6))
            #expect(i6.details["answered"] == quirk.answered)
            #expect(i6.details["acknowledgedEnd"] == quirk.highWatermark)
            #expect(report.count(6) == 1 && report.count(7) == 1)
        } else {
            #expect(report.ids == [16], "\(text)")
        }
    }

    @Test(arguments: GoldenFixtures.sessionNames)
    func everyProducedRecordWasComparedWithItsFetch(_ session: String) throws {
        let engine = CheckEngine()
        for r in try GoldenFixtures.records(session) { engine.process(r) }
        _ = engine.finish()
        var produced = 0
        for tp in engine.model.knownPartitions {
            for (offset, entry) in engine.model.entries(tp) {
                #expect(entry.produced != nil, "\(session) \(tp)@\(offset) fetched but not produced")
                #expect(engine.model.firstFetchedBy(entry) != nil, "\(session) \(tp)@\(offset) produced but never fetched")
                if entry.produced != nil { produced += 1 }
            }
        }
        #expect(produced >= 6, "\(session): only \(produced) produced records were assigned offsets")
    }

    @Test func librdkafkaFetchesByTopicIdAreNamed() throws {
        let engine = CheckEngine()
        for r in try GoldenFixtures.records("librdkafka-zstd") { engine.process(r) }
        _ = engine.finish()
        #expect(engine.model.knownPartitions == [TopicPartition("rk-zstd", 0)])
    }

    @Test func addressesAsTheRelayAdvertisedThemPassI17ButAPcapImportSkipsIt() throws {
        let proxied = CheckEngine.check(try GoldenFixtures.records("kafka-python-group"))
        #expect(!proxied.ids.contains(17))
        #expect(!proxied.notes.contains { $0.contains("I17") })
        let pcap = CheckEngine.check(try GoldenFixtures.records("kafka-python-group", role: "pcap"))
        #expect(pcap.ids == proxied.ids)
        #expect(pcap.notes.contains { $0.contains("I17 skipped: a pcap import has no proxy") })
    }

    @Test func tansuBehaviourCanBeSkipped() throws {
        let enabled = try CheckConfiguration.selection(only: [], skip: ["I6", "I7", "I16"])
        for session in GoldenFixtures.sessionNames {
            let report = CheckEngine.check(try GoldenFixtures.records(session), configuration: CheckConfiguration(enabled: enabled))
            #expect(report.isClean, "\(session): \(report.text(capturePath: session))")
        }
    }
}
