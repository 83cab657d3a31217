import KafkaCapture

/// One invariant: it watches the capture go by and reports what violates it.
///
/// The engine calls `observe(record:)` for every capture record (before pairing), `observe(_:_:)` for
/// every exchange in request order, `observe(unmatched:_:)` for responses that match no request, and
/// `finish(_:)` once at the end. Each returns the findings it can already tell; invariants that need
/// the whole capture (group generations, offset ranges) report from `finish`. State lives in the
/// invariant; what several invariants share (topic names, produced records) lives in `CaptureModel`.
public protocol Invariant: AnyObject {
    /// The invariant's id (`I6`): what `--only`/`--skip` and the report name it by.
    var id: InvariantID { get }
    /// Findings about one exchange, seen in request order.
    func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding]
    /// Findings about one raw capture record (connection events, address mappings), seen before pairing.
    func observe(record: CaptureRecord, _ context: CheckContext) -> [Finding]
    /// Findings about a response that matches no request on its connection.
    func observe(unmatched: UnmatchedResponse, _ context: CheckContext) -> [Finding]
    /// Findings only the whole capture shows, once at the end.
    func finish(_ context: CheckContext) -> [Finding]
}

extension Invariant {
    /// By default an invariant has nothing to say about an exchange.
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] { [] }
    /// By default an invariant ignores raw records.
    public func observe(record: CaptureRecord, _ context: CheckContext) -> [Finding] { [] }
    /// By default an invariant ignores unmatched responses.
    public func observe(unmatched: UnmatchedResponse, _ context: CheckContext) -> [Finding] { [] }
    /// By default an invariant reports everything as it goes and nothing at the end.
    public func finish(_ context: CheckContext) -> [Finding] { [] }
}

/// The built-in invariants, in catalogue order.
public enum Invariants {
    /// A fresh instance of every built-in invariant (they keep state, so one set per check).
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
            LogStartOffsetsAgree(), ProducerIdsDistinct(), GroupProtocolChosen(), WellFormedRequestsAccepted(),
        ]
    }
}
