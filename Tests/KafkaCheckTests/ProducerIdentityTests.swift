import KafkaCapture
import KafkaCheck
import KafkaProtocol
import Testing

/// I32 (producer ids are not shared) and I12's retry recognition.
@Suite struct ProducerIdentityTests {
    func initProducerId(_ b: CaptureBuilder, conn: UInt64, transactionalId: String? = nil, answer: Int64, epoch: Int16 = 0) {
        var req = InitProducerIdRequest()
        req.transactionalId = transactionalId
        req.transactionTimeoutMs = 60_000
        var resp = InitProducerIdResponse()
        resp.producerId = answer
        resp.producerEpoch = epoch
        b.exchange(conn, 22, 4, req, resp)
    }

    /// Without ApiVersions (I15 is skipped): the builder's broker does not advertise InitProducerId.
    func builder() -> CaptureBuilder { CaptureBuilder(metadata: false) }

    @Test func i32TwoProducersGetTheSameIdentity() throws {
        let b = builder()
        initProducerId(b, conn: 1, answer: 1000)
        initProducerId(b, conn: 2, answer: 1000)
        let report = b.check()
        #expect(report.ids == [32])
        let f = try #require(report.first(32))
        #expect(f.message.hasPrefix("InitProducerId answered producer id 1000 epoch 0, which an earlier non-transactional InitProducerId had already given"))
        #expect(f.exchanges.map(\.connection) == [2, 1])
    }

    @Test func i32CleanForNewIdsBumpedEpochsAndTransactionalIds() {
        let b = builder()
        initProducerId(b, conn: 1, answer: 1000)
        initProducerId(b, conn: 2, answer: 1001)
        initProducerId(b, conn: 1, answer: 1000, epoch: 1)  // KIP-360: the same producer bumps its epoch
        initProducerId(b, conn: 1, transactionalId: "tx", answer: 2000)
        initProducerId(b, conn: 2, transactionalId: "tx", answer: 2000)
        #expect(b.check().isClean)
    }

    @Test func i12ReusedProducerIdWithReusedOffsetsIsNotARetry() throws {
        // Two producers given the same producer id both send sequence 0; the broker deduplicates the
        // second batch and answers the first one's offsets. Same id, epoch and sequence, other bytes.
        let b = CaptureBuilder()
        b.produce([Rec("a", "1"), Rec("b", "2")], base: 0, producerId: 7, baseSequence: 0)
        b.produce([Rec("c", "3"), Rec("d", "4")], base: 0, conn: 2, producerId: 7, baseSequence: 0)
        let report = b.check()
        #expect(report.ids.contains(12))
        #expect(try #require(report.first(12)).message.contains("overlapping offsets 0-1"))
    }

    @Test func i12TheSameBatchAgainIsARetry() {
        let b = CaptureBuilder()
        b.produce([Rec("a", "1"), Rec("b", "2")], base: 0, producerId: 7, baseSequence: 0)
        b.produce([Rec("a", "1"), Rec("b", "2")], base: 0, conn: 2, producerId: 7, baseSequence: 0)
        #expect(b.check().isClean)
    }
}
