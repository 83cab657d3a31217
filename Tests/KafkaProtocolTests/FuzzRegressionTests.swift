import NIOCore
import Testing

import KafkaProtocol

/// Inputs found by `tools/fuzz` (docs/fuzzing.md), kept byte for byte as libFuzzer wrote them. Each
/// must decode cleanly or fail with a typed error, never trap.
@Suite struct FuzzRegressionTests {
    /// The `messages` target's input layout: bytes 0-1 pick `KafkaAPIs.all[n / 2]` (even: request,
    /// odd: response), bytes 2-3 the version within its range, the rest is the body.
    static func select(_ input: [UInt8]) -> (any KafkaMessage.Type, Int16, ByteBuffer) {
        let selector = (Int(input[0]) << 8 | Int(input[1])) % (KafkaAPIs.all.count * 2)
        let api = KafkaAPIs.all[selector / 2]
        let count = Int(api.versions.upperBound) - Int(api.versions.lowerBound) + 1
        let version = api.versions.lowerBound + Int16((Int(input[2]) << 8 | Int(input[3])) % count)
        return (selector % 2 == 0 ? api.request : api.response, version, ByteBuffer(bytes: input[4...]))
    }

    /// messages crash-ee48155081cd3d0ff420295ac14d8a301de9b0c8 (a harness finding, not a codec bug):
    /// ConsumerGroupHeartbeatResponse v1 whose nullable `assignment` has presence byte 0. Kafka's
    /// generated Java reads a presence byte < 0 as null and anything else as present, and writes 1;
    /// so does this codec. The re-encoding differs in exactly that byte and is a fixed point.
    @Test func nullableStructPresenceByteZeroReencodesAsOne() throws {
        let crasher: [UInt8] = [
            0xd3, 0x3d, 0x3d, 0x3d, 0x3d, 0x3d, 0x30, 0x3d, 0x3d, 0x00, 0x00, 0x00, 0x00, 0xd3, 0x00, 0x01,
            0x00, 0x00, 0x1a, 0x00, 0x00, 0x01, 0x00, 0x00,
        ]
        let (type, version, body) = Self.select(crasher)
        #expect(type.schemaName == ConsumerGroupHeartbeatResponse.schemaName)
        #expect(version == 1)
        let message = try #require(try type.decode(body, version: version) as? ConsumerGroupHeartbeatResponse)
        #expect(message.assignment != nil)
        let encoded = message.encoded(version: version)
        let input = Array(body.readableBytesView)
        let output = Array(encoded.readableBytesView)
        #expect(output.count == input.count)
        let differing = zip(input, output).enumerated().filter { $0.element.0 != $0.element.1 }
        #expect(differing.count == 1)
        #expect(differing.first?.element.0 == 0x00)
        #expect(differing.first?.element.1 == 0x01)
        let again = try ConsumerGroupHeartbeatResponse.decode(encoded, version: version)
        #expect(again.encoded(version: version) == encoded)
    }
}
