import KafkaCapture

/// The capture tap: every response, matched or not, is recorded when it is sent to the client, as the
/// bytes `captured` holds (the broker's bytes, or what redaction or a fault made of them). Takes them
/// as bytes and never decodes, so wanting every response costs no decoding and does not stop
/// cut-through (it does not change what the client gets). Requests are recorded where they are read.
struct CaptureFilter: ResponseFilter {
    var stage: ResponseFilterStage { .atDelivery }

    func wants(_ api: ResponseInFlight.API?) -> Bool { true }

    func filter(_ response: inout ResponseInFlight, _ connection: ProxyConnection) {
        connection.record(.frame(Self.frameRecord(response, connectionId: connection.id)))
    }

    /// The capture record for a response as delivered: the client's length on the wire, the capture's bytes.
    static func frameRecord(_ response: ResponseInFlight, connectionId: UInt64) -> FrameRecord {
        FrameRecord(
            time: response.time, connectionId: connectionId, direction: .response, flags: response.flags,
            wireLength: UInt32(response.toClient.readableBytes), payload: response.captured)
    }
}
