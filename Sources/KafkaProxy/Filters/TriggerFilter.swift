/// Flight-recorder triggers (`--trigger`), judged on what the client got, after it was delivered and
/// captured (so the ring written out holds the response that fired). Wants every response, matched or
/// not (check:I13 fires on unmatched ones), until the connection's recorder fired.
struct TriggerFilter: ResponseFilter {
    var stage: ResponseFilterStage { .afterDelivery }

    func wants(_ api: ResponseInFlight.API?) -> Bool { true }

    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection) {
        connection.evaluateTriggers(response.toClient, pending: response.pending, match: response.match, at: response.time)
    }
}
