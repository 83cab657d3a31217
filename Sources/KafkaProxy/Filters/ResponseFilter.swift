/// One concern applied to responses on their way from the broker to the client, in the spirit of
/// Kroxylicious' filters: each says which responses it wants, by the API key and version of the
/// request they answer, and only those reach it. A response that no filter wants is forwarded and
/// captured as bytes, never decoded.
///
/// The chain, in order (`ProxyConnection.responseFilters`): `RedactionFilter` (what the capture may
/// store), `FaultFilter` (what the client gets, `--fault`), `RewriteFilter` (whether broker addresses
/// must be rewritten on delivery); the connection then delivers and captures the response, after
/// which `TriggerFilter` (flight-recorder triggers) judges what the client got. Filters hold no
/// reference to the connection: it is passed in for the duration of a call.
protocol ResponseFilter {
    /// Whether the filter runs after the response was delivered and captured (triggers) instead of before.
    var afterDelivery: Bool { get }

    /// Whether the filter may change the bytes the client gets; a response no such filter wants may be
    /// streamed to the client as it arrives (cut-through).
    var changesWhatTheClientGets: Bool { get }

    /// Whether this filter wants a response to a request of `api` (nil: one that matched no request).
    func wants(_ api: ResponseInFlight.API?) -> Bool

    /// Looks at or changes the response in flight.
    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection)
}

extension ResponseFilter {
    var afterDelivery: Bool { false }
    var changesWhatTheClientGets: Bool { false }
}
