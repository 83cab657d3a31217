import Foundation
import NIOCore
import Testing

@testable import KafkaCapture

func testHeader(captureId: CaptureID = CaptureID(high: 0x0102_0304_0506_0708, low: 0x090a_0b0c_0d0e_0f10)) -> CaptureHeader {
    CaptureHeader(
        toolVersion: "kafkatape-test 0.0.1",
        startTime: CaptureTimestamp(monotonicNs: 5_000, wallNs: 1_700_000_000_000_000_000),
        listenAddress: "127.0.0.1:19092", upstreamAddress: "broker:9092", hostname: "test-host",
        captureId: captureId)
}

func ts(_ n: UInt64) -> CaptureTimestamp {
    CaptureTimestamp(monotonicNs: 1_000_000 + n, wallNs: 1_700_000_000_000_000_000 + Int64(n))
}

func bytes(_ array: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: array) }

/// A request payload: api key, version, correlation id, client id, then `body`.
func requestPayload(apiKey: Int16, version: Int16, correlationId: Int32, clientId: String = "c1", body: [UInt8] = []) -> ByteBuffer {
    var b = ByteBuffer()
    b.writeInteger(apiKey)
    b.writeInteger(version)
    b.writeInteger(correlationId)
    b.writeInteger(Int16(clientId.utf8.count))
    b.writeString(clientId)
    b.writeBytes(body)
    return b
}

func responsePayload(correlationId: Int32, body: [UInt8] = [0, 0]) -> ByteBuffer {
    var b = ByteBuffer()
    b.writeInteger(correlationId)
    b.writeBytes(body)
    return b
}

func frame(_ conn: UInt64, _ direction: FrameDirection, _ payload: ByteBuffer, at t: UInt64 = 0) -> CaptureRecord {
    .frame(FrameRecord(time: ts(t), connectionId: conn, direction: direction, payload: payload))
}

/// One record of every type, with edge values (empty strings, non-ASCII, optional fields both ways).
func sampleRecords() -> [CaptureRecord] {
    [
        .connectionOpened(
            ConnectionOpenedRecord(
                time: ts(1), connectionId: 1, clientAddress: "10.0.0.5:51234", listenerAddress: "0.0.0.0:19092",
                upstreamAddress: "broker:9092", nodeId: -1, role: "proxy")),
        .addressMapping(
            AddressMappingRecord(
                time: ts(2), nodeId: 3, upstreamHost: "kafka-3.internal", upstreamPort: 9092, proxyHost: "localhost",
                proxyPort: 19095)),
        frame(1, .request, requestPayload(apiKey: 18, version: 3, correlationId: 7), at: 3),
        frame(1, .response, responsePayload(correlationId: 7), at: 4),
        .frame(
            FrameRecord(
                time: ts(5), connectionId: 1, direction: .request, flags: [.redacted], wireLength: 123_456,
                payload: requestPayload(apiKey: 0, version: 9, correlationId: 8, body: Array("[redacted]".utf8)))),
        .frame(
            FrameRecord(
                time: ts(6), connectionId: 1, direction: .response, flags: [.truncated, FrameFlags(rawValue: 0x80)],
                wireLength: 70_000, payload: ByteBuffer(repeating: 0xAB, count: 1024))),
        frame(2, .request, ByteBuffer(), at: 7),
        .event(
            EventRecord(
                time: ts(8), connectionId: 1, kind: .rewrite, message: "rewrote 3 broker addresses ✓",
                attributes: [.init("api", "Metadata"), .init("brokers", "3"), .init("api", "again")],
                payload: bytes([1, 2, 3]))),
        .event(EventRecord(time: ts(9), kind: .upstreamUnreachable, message: "")),
        .event(EventRecord(time: ts(10), kind: "custom-kind", message: "m", payload: ByteBuffer())),
        .connectionClosed(ConnectionClosedRecord(time: ts(11), connectionId: 1, closedBy: .client, reason: "EOF")),
        .connectionClosed(ConnectionClosedRecord(time: ts(12), connectionId: 2, closedBy: ConnectionCloser(rawValue: 9), reason: "")),
    ]
}

/// Writes `records` to a new capture at `path` and returns the writer's segment paths.
@discardableResult
func writeCapture(_ records: [CaptureRecord], to path: String, rotateBytes: Int? = nil) throws -> [String] {
    let writer = try CaptureWriter(path: path, header: testHeader(), rotateBytes: rotateBytes)
    for r in records { try writer.append(r) }
    try writer.close()
    return writer.segmentPaths
}

func fileBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Reads everything: the records, and the reader for its diagnostics.
func readCapture(_ path: String, storage: any CaptureStorage = FileCaptureStorage()) throws -> ([CaptureRecord], CaptureReader) {
    let reader = try CaptureReader(path: path, storage: storage)
    let records = try reader.readAll()
    return (records, reader)
}
