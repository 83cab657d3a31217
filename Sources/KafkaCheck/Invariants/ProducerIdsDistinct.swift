import KafkaProtocol

/// I32: separate non-transactional InitProducerId calls get distinct (producer id, epoch) pairs.
///
/// An idempotent producer's identity is its producer id and epoch (KIP-98): the broker deduplicates
/// retries by (producer id, epoch, sequence). InitProducerId without a transactional id allocates a
/// new producer id each time (`ProducerIdManager`); with KIP-360 (v3+) a producer that passes its
/// current id and epoch gets the same id with a bumped epoch. Either way no successful answer may
/// repeat a pair an earlier one gave: two producers sharing a pair would have each other's batches
/// deduplicated away as retries (I12 then sees their overlapping offsets). Transactional ids are
/// exempt: InitProducerId for the same transactional id legitimately returns its producer id again
/// (with a bumped epoch, also distinct, but fenced producers make that the coordinator's business).
public final class ProducerIdsDistinct: Invariant {
    /// `I32` in reports and `--only`/`--skip`: producer ids are not shared.
    public let id = InvariantID(32)
    private struct Pair: Hashable {
        var producerId: Int64
        var epoch: Int16
    }
    private var given: [Pair: ExchangeReference] = [:]
    /// A fresh I32 checker; it keeps state for one capture, so every check makes its own.
    public init() {}

    /// Checks one exchange, in request order, for I32 (producer ids are not shared).
    public func observe(_ exchange: ExchangeContext, _ context: CheckContext) -> [Finding] {
        guard exchange.apiKey == 22, let req = exchange.requestBody(InitProducerIdRequest.self), req.transactionalId == nil,
            let resp = exchange.responseBody(InitProducerIdResponse.self), resp.errorCode == 0, resp.producerId >= 0
        else { return [] }
        let pair = Pair(producerId: resp.producerId, epoch: resp.producerEpoch)
        if let earlier = given[pair] {
            return [
                Finding(
                    id,
                    "InitProducerId answered producer id \(pair.producerId) epoch \(pair.epoch), which an earlier non-transactional InitProducerId had already given: two producers would share one identity and their batches would be deduplicated as retries.",
                    exchanges: [exchange.reference, earlier],
                    details: ["producerId": String(pair.producerId), "producerEpoch": String(pair.epoch)])
            ]
        }
        given[pair] = exchange.reference
        return []
    }
}
