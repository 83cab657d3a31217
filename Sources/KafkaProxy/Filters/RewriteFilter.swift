import KafkaEndpoints
import KafkaProtocol

/// Address virtualisation: responses whose schema can carry broker addresses (the generated
/// `KafkaAPIs.responseMayCarryEndpoints`) are marked for rewriting on delivery, where they are
/// decoded and their endpoints pointed at proxy listeners. Absent under the `no-rewrite` fault.
struct RewriteFilter: ResponseFilter {
    var changesWhatTheClientGets: Bool { true }

    func wants(_ api: ResponseInFlight.API?) -> Bool {
        guard let api else { return false }
        return AddressRewriter.mayCarryEndpoints(apiKey: api.key, apiVersion: api.version)
    }

    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection) {
        response.rewriteAddresses = true
    }
}
