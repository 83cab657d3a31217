import KafkaCapture
import KafkaProtocol
import NIOCore
import Testing

@testable import KafkaReplay

/// The default noise rules: identifiers compared by consistent renaming, broker times by presence,
/// and what the producer wrote never noise; serve's client-computed fields.
@Suite struct NoiseRuleTests {
    /// Two InitProducerId calls answered with `ids`, then a Produce from each with its id.
    func producers(_ ids: (Int64, Int64)) -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        for (i, id) in [ids.0, ids.1].enumerated() {
            var r = InitProducerIdResponse()
            r.producerId = id
            r.producerEpoch = 0
            b.exchange(1, InitProducerIdRequest(), r, apiKey: 22, version: 4, correlationId: Int32(2 * i + 1))
            b.exchange(
                1, Messages.produceRequest(Messages.batch(["v\(i)"], producerId: id, producerEpoch: 0)),
                Messages.produceResponse(baseOffset: Int64(i)), apiKey: 0, version: 9, correlationId: Int32(2 * i + 2))
        }
        return b.session
    }

    @Test func identifiersThatDifferConsistentlyAreEquivalent() {
        let report = CaptureDiff().compare(producers((1000, 1001)), producers((7, 8)))
        #expect(report.isEquivalent, "\(report.text())")
    }

    @Test func oneIdForTwoProducersDiffersFromTwo() {
        let report = CaptureDiff().compare(producers((1000, 1001)), producers((7, 7)))
        #expect(!report.isEquivalent)
        let paths = report.allDifferences.map { "\($0.1.rawValue) \($0.2.path)" }
        #expect(paths.contains("response ProducerId"), "\(paths)")
        let d = report.allDifferences.first { $0.2.path.description == "ProducerId" }?.2
        #expect(d?.a == .string("producer#2") && d?.b == .string("producer#1"))
    }

    @Test func strictComparesTheRawIds() {
        let report = CaptureDiff(rules: .standard(strict: true)).compare(producers((1000, 1001)), producers((7, 8)))
        #expect(!report.isEquivalent)
    }

    @Test func noIdIsNotAnId() {
        // -1 ("no producer id") must not rename to the same thing as a real id.
        let renamer = IdentifierRenamer()
        #expect(renamer.rename(.int(-1), in: "producer") == .int(-1))
        #expect(renamer.rename(.int(0), in: "session") == .int(0))
        #expect(renamer.rename(.string(""), in: "member") == .string(""))
        #expect(renamer.rename(.int(42), in: "producer") == .string("producer#1"))
        #expect(renamer.rename(.int(43), in: "producer") == .string("producer#2"))
        #expect(renamer.rename(.int(42), in: "producer") == .string("producer#1"))
        #expect(renamer.rename(.int(42), in: "generation") == .string("generation#1"))
    }

    func produce(logAppendTime: Int64) -> RecordedSession {
        var b = SessionBuilder()
        b.open(1)
        var response = Messages.produceResponse(baseOffset: 0)
        response.responses[0].partitionResponses[0].logAppendTimeMs = logAppendTime
        b.exchange(1, Messages.produceRequest(Messages.batch(["v"])), response, apiKey: 0, version: 9, correlationId: 1)
        return b.session
    }

    @Test func brokerTimesCompareByPresence() {
        #expect(CaptureDiff().compare(produce(logAppendTime: 1_700_000_000_000), produce(logAppendTime: 1_800_000_000_000)).isEquivalent)
        let report = CaptureDiff().compare(produce(logAppendTime: -1), produce(logAppendTime: 1_800_000_000_000))
        #expect(!report.isEquivalent)
        #expect(report.allDifferences.first?.2.path.description.hasSuffix("LogAppendTimeMs") == true)
    }

    /// A fetch answer whose record carries CreateTime `timestamp`.
    func fetched(timestamp: Int64) -> RecordedSession {
        let record = KafkaRecord(offset: 0, timestamp: timestamp, key: nil, value: ByteBuffer(string: "v"), headers: [])
        let buffer = (try? KafkaRecords.encodeBatch(KafkaRecordBatch(baseOffset: 0, records: [record]), compression: .none)) ?? ByteBuffer()
        var b = SessionBuilder()
        b.open(1)
        b.exchange(1, Messages.fetchRequest(offset: 0), Messages.fetchResponse(records: buffer, highWatermark: 1), apiKey: 1, version: 12, correlationId: 1)
        return b.session
    }

    @Test func producerTimestampsAreNeverNoise() {
        let report = CaptureDiff().compare(fetched(timestamp: 1_700_000_000_000), fetched(timestamp: 1_700_000_000_999))
        #expect(!report.isEquivalent)
        #expect(report.allDifferences.first?.2.path.description.hasSuffix("Records[offset=0].timestamp") == true)
    }

    /// kafka-go computes Produce TimeoutMs and Fetch MaxWaitMs from a deadline: serve matches anyway,
    /// unless strict.
    @Test func serveIgnoresClientComputedFields() {
        var b = SessionBuilder()
        b.open(1)
        var produce = Messages.produceRequest(Messages.batch(["v"]))
        produce.timeoutMs = 10_000
        b.exchange(1, produce, Messages.produceResponse(baseOffset: 0), apiKey: 0, version: 9, correlationId: 1)
        var fetch = Messages.fetchRequest(offset: 0)
        fetch.maxWaitMs = 500
        b.exchange(1, fetch, Messages.fetchResponse(records: Messages.batch(["v"]), highWatermark: 1), apiKey: 1, version: 12, correlationId: 2)
        let session = b.session
        var liveProduce = Messages.produceRequest(Messages.batch(["v"]))
        liveProduce.timeoutMs = 9_987
        var liveFetch = Messages.fetchRequest(offset: 0)
        liveFetch.maxWaitMs = 493
        for strict in [false, true] {
            let script = ServeScript(session: session, rules: .serveMatching(strict: strict))
            var m = ServeMatcher(script: script)
            m.connectionOpened(1, node: -1)
            for (body, key) in [(liveProduce as any KafkaMessage, Int16(0)), (liveFetch, Int16(1))] {
                let payload = SessionBuilder.requestPayload(body, apiKey: key, version: key == 0 ? 9 : 12, correlationId: 7)
                let normalized = ComparableExchange.normalizedRequest(
                    payload, api: key == 0 ? "Produce" : "Fetch", normalizer: script.normalizer)
                let match = m.match(1, signature: ServeScript.signature(key, key == 0 ? 9 : 12), normalized: normalized)
                #expect((match != nil) == !strict, "strict \(strict), api \(key)")
            }
        }
    }
}
