/// One concern applied to responses on their way from the broker to the client, in the spirit of
/// Kroxylicious' filters: each says which responses it wants, by the API key and version of the
/// request they answer, and only those reach it. A response that no filter wants to decode is
/// forwarded and captured as bytes, never decoded.
///
/// The chain, in order (`ProxyConnection.responseFilters`): before delivery `RedactionFilter` (what the
/// capture may store), `FaultFilter` (what the client gets, `--fault`), `RewriteFilter` (whether broker
/// addresses must be rewritten on delivery); at delivery, when the response is actually sent (after a
/// `delay` fault, in the order a `reorder-responses` fault chose), `CaptureFilter` (the capture tap);
/// after delivery `TriggerFilter` (flight-recorder triggers), which judges what the client got. Filters
/// hold no reference to the connection: it is passed in for the duration of a call.
protocol ResponseFilter {
    /// When in a response's way through the proxy the filter runs.
    var stage: ResponseFilterStage { get }

    /// Whether the filter may change the bytes the client gets; a response no such filter wants may be
    /// streamed to the client as it arrives (cut-through).
    var changesWhatTheClientGets: Bool { get }

    /// Whether this filter wants a response to a request of `api` (nil: one that matched no request).
    func wants(_ api: ResponseInFlight.API?) -> Bool

    /// Looks at or changes the response in flight.
    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection)
}

/// The three points where filters see a response.
enum ResponseFilterStage: Hashable {
    /// As it arrives from the broker, before anything is sent: what the client and the capture get.
    case beforeDelivery
    /// The moment it is sent to the client (or, cut through, was sent): the capture.
    case atDelivery
    /// Once it was delivered and captured: triggers.
    case afterDelivery
}

extension ResponseFilter {
    var stage: ResponseFilterStage { .beforeDelivery }
    var changesWhatTheClientGets: Bool { false }
    /// Whether the filter runs after the response was delivered and captured (triggers).
    var afterDelivery: Bool { stage == .afterDelivery }
}
