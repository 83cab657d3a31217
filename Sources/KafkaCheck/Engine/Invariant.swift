import KafkaCapture

/// One invariant: it watches the capture go by and reports what violates it.
///
/// The engine calls `observe(record:)` for every capture record (before pairing), `observe(_:_:)` for
/// every exchange in request order, `observe(unmatched:_:)` for responses that match no request, and
/// `finish(_:)` once at the end. Each returns the findings it can already tell; invariants that need
/// the whole capture (group generations, offset ranges) report from `finish`. State lives in the
/// invariant; what several invariants share (topic names, produced records) lives in `CaptureModel`.
public protocol Invariant: AnyObject {
    var id: InvariantID { get }
    func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding]
    func observe(record: CaptureRecord, _ context: CheckContext) -> [Finding]
    func observe(unmatched: UnmatchedResponse, _ context: CheckContext) -> [Finding]
    func finish(_ context: CheckContext) -> [Finding]
}

extension Invariant {
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] { [] }
    public func observe(record: CaptureRecord, _ context: CheckContext) -> [Finding] { [] }
    public func observe(unmatched: UnmatchedResponse, _ context: CheckContext) -> [Finding] { [] }
    public func finish(_ context: CheckContext) -> [Finding] { [] }
}

/// The built-in invariants, in catalogue order.
public enum Invariants {
    public static func all() -> [any Invariant] {
        [
            ProducedRecordsIntact(), FetchBelowHighWatermarkReturnsData(), FirstBatchCoversFetchOffset(),
            OffsetContentStable(), HighWatermarkMonotonic(), AcknowledgedRecordsBelowEnd(), ListOffsetsAgreesWithFetch(),
            FetchOutOfRangeIsError(), ListOffsetsByTimestamp(), NullAndEmptyPreserved(), RecordBatchesWellFormed(),
            ProduceOffsetsContiguous(), ResponseOrder(), FramesDecodeExactly(), AdvertisedVersions(),
            TaggedFieldDefaults(), AddressesRewritten(), CreatedTopicVisible(), OffsetFetchReturnsLastCommit(),
            GroupAssignmentsConsistent(), FetchAnsweredInTime(), UnknownServerError(), ErrorMessagesPresent(),
            ErrorCodesFitVersion(), AnswersMatchQuestions(), MetadataAnswersEveryTopic(), BrokerReachable(),
            RepeatedRequestsProgress(), RecordSetsFitVersion(), TimestampsPreserved(),
            LogStartOffsetsAgree(), ProducerIdsDistinct(), GroupProtocolChosen(),
        ]
    }
}
