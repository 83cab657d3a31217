/// `--fault`: stages gateway bugs on the responses the client gets. Wants every matched response: the
/// faults count responses (duplicate-correlation-id, reorder-responses) and learn topic names from
/// Metadata. The capture then holds what the client received (unless redacted); each injection is a
/// `fault` event carrying the broker's real answer.
struct FaultFilter: ResponseFilter {
    let faults: FaultInjector
    var changesWhatTheClientGets: Bool { true }

    func wants(_ api: ResponseInFlight.API?) -> Bool { api != nil }

    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection) {
        guard let p = response.pending else { return }
        let outcome = faults.transform(response.frame, apiKey: p.apiKey, apiVersion: p.apiVersion, correlationId: p.correlationId)
        response.toClient = outcome.payload
        if outcome.changed {
            connection.server.statistics.fault()
            connection.recordEvent(
                kind: .fault, connectionId: connection.id, message: outcome.notes.joined(separator: "; "),
                attributes: [
                    .init("correlationId", String(p.correlationId)), .init("apiKey", String(p.apiKey)),
                    .init("apiVersion", String(p.apiVersion)),
                ],
                payload: response.frame)
            if !response.flags.contains(.redacted) { response.captured = outcome.payload }
        }
        if outcome.closeConnection {
            response.closeReason = "fault: " + outcome.notes.joined(separator: "; ")
        }
        response.delayMs = outcome.delayMs
        response.holdForReorder = outcome.holdForReorder
    }
}
