import KafkaEndpoints
import KafkaProtocol

/// Address virtualisation: responses whose schema can carry broker addresses (the generated
/// `KafkaAPIs.responseMayCarryEndpoints`) are marked for rewriting on delivery, where they are
/// decoded and their endpoints pointed at proxy listeners. Versions that keep their endpoints only in a
/// tagged field that is nearly always absent (Produce v10+, Fetch v16+) are skipped over first
/// (`KafkaFrameCodec.responseEndpointsPresent`) and marked only when it is there. Absent under the
/// `no-rewrite` fault.
struct RewriteFilter: ResponseFilter {
    var changesWhatTheClientGets: Bool { true }

    func wants(_ api: ResponseInFlight.API?) -> Bool {
        guard let api else { return false }
        return AddressRewriter.mayCarryEndpoints(apiKey: api.key, apiVersion: api.version)
    }

    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection) {
        guard let p = response.pending else { return }
        response.rewriteAddresses =
            KafkaFrameCodec.responseEndpointsPresent(response.toClient, apiKey: p.apiKey, apiVersion: p.apiVersion) != false
    }
}
