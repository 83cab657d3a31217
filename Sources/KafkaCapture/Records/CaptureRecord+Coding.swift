import KafkaProtocol
import NIOCore

// Record framing: body length (u32) | CRC-32C of type byte + body (u32) | type (u8) | body.
// Every body starts with the timestamp (monotonic u64, wall i64). Layouts: docs/capture-format.md.

extension CaptureRecord {
    /// The size of the record's body in bytes.
    public var encodedBodySize: Int {
        switch self {
        case .connectionOpened(let r):
            return 16 + 8 + 4 + captureStringSize(r.clientAddress) + captureStringSize(r.listenerAddress)
                + captureStringSize(r.upstreamAddress) + captureStringSize(r.role)
        case .frame(let r):
            return 16 + 8 + 1 + 1 + 4 + r.payload.readableBytes
        case .addressMapping(let r):
            return 16 + 4 + 4 + 4 + captureStringSize(r.upstreamHost) + captureStringSize(r.proxyHost)
        case .connectionClosed(let r):
            return 16 + 8 + 1 + captureStringSize(r.reason)
        case .event(let r):
            var n = 16 + 1 + 8 + captureStringSize(r.kind.rawValue) + captureStringSize(r.message) + 4
            for a in r.attributes { n += captureStringSize(a.key) + captureStringSize(a.value) }
            if let p = r.payload { n += 4 + p.readableBytes }
            return n
        }
    }

    /// The size of the whole record in the file: record header plus body.
    public var encodedSize: Int { CaptureFormat.recordHeaderSize + encodedBodySize }

    /// Appends the framed record (length, CRC, type, body) to `buffer`.
    public func encode(into buffer: inout ByteBuffer) throws(CaptureError) {
        let bodySize = encodedBodySize
        guard bodySize <= CaptureFormat.maxRecordBodySize else {
            throw CaptureError(.recordTooLarge(bodySize: bodySize, limit: CaptureFormat.maxRecordBodySize))
        }
        let start = buffer.writerIndex
        buffer.reserveCapacity(minimumWritableBytes: CaptureFormat.recordHeaderSize + bodySize)
        buffer.writeInteger(UInt32(bodySize), endianness: .big)
        buffer.writeInteger(UInt32(0), endianness: .big)
        buffer.writeInteger(type.rawValue)
        encodeBody(into: &buffer)
        let crcStart = start + 8 - buffer.readerIndex
        let crc = buffer.withUnsafeReadableBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[crcStart...]))
        }
        buffer.setInteger(crc, at: start + 4, endianness: .big)
    }

    /// Like `encode(into:)`, except that a frame record's payload is not copied into `buffer`: it is
    /// returned, to be written right after what `buffer` got (vectored I/O); the CRC already covers
    /// it. Every other record is encoded whole and returns nil.
    public func encodeLeavingPayload(into buffer: inout ByteBuffer) throws(CaptureError) -> ByteBuffer? {
        guard case .frame(let r) = self else {
            try encode(into: &buffer)
            return nil
        }
        let bodySize = encodedBodySize
        guard bodySize <= CaptureFormat.maxRecordBodySize else {
            throw CaptureError(.recordTooLarge(bodySize: bodySize, limit: CaptureFormat.maxRecordBodySize))
        }
        let start = buffer.writerIndex
        buffer.reserveCapacity(minimumWritableBytes: CaptureFormat.recordHeaderSize + bodySize - r.payload.readableBytes)
        buffer.writeInteger(UInt32(bodySize), endianness: .big)
        buffer.writeInteger(UInt32(0), endianness: .big)
        buffer.writeInteger(type.rawValue)
        buffer.writeTimestamp(time)
        buffer.writeInteger(r.connectionId, endianness: .big)
        buffer.writeInteger(r.direction.rawValue)
        buffer.writeInteger(r.flags.rawValue)
        buffer.writeInteger(r.wireLength, endianness: .big)
        let crcStart = start + 8 - buffer.readerIndex
        let head = buffer.withUnsafeReadableBytes { raw in
            CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[crcStart...]))
        }
        let crc = r.payload.withUnsafeReadableBytes { CRC32C.update(head, $0) }
        buffer.setInteger(crc, at: start + 4, endianness: .big)
        return r.payload
    }

    /// The framed record in a buffer of its own.
    public func encoded() throws(CaptureError) -> ByteBuffer {
        var b = ByteBuffer()
        try encode(into: &b)
        return b
    }

    private func encodeBody(into b: inout ByteBuffer) {
        b.writeTimestamp(time)
        switch self {
        case .connectionOpened(let r):
            b.writeInteger(r.connectionId, endianness: .big)
            b.writeInteger(r.nodeId, endianness: .big)
            b.writeCaptureString(r.clientAddress)
            b.writeCaptureString(r.listenerAddress)
            b.writeCaptureString(r.upstreamAddress)
            b.writeCaptureString(r.role)
        case .frame(let r):
            b.writeInteger(r.connectionId, endianness: .big)
            b.writeInteger(r.direction.rawValue)
            b.writeInteger(r.flags.rawValue)
            b.writeInteger(r.wireLength, endianness: .big)
            b.writeImmutableBuffer(r.payload)
        case .addressMapping(let r):
            b.writeInteger(r.nodeId, endianness: .big)
            b.writeInteger(r.upstreamPort, endianness: .big)
            b.writeInteger(r.proxyPort, endianness: .big)
            b.writeCaptureString(r.upstreamHost)
            b.writeCaptureString(r.proxyHost)
        case .connectionClosed(let r):
            b.writeInteger(r.connectionId, endianness: .big)
            b.writeInteger(r.closedBy.rawValue)
            b.writeCaptureString(r.reason)
        case .event(let r):
            var presence: UInt8 = 0
            if r.connectionId != nil { presence |= EventPresence.connectionId }
            if r.payload != nil { presence |= EventPresence.payload }
            b.writeInteger(presence)
            b.writeInteger(r.connectionId ?? 0, endianness: .big)
            b.writeCaptureString(r.kind.rawValue)
            b.writeCaptureString(r.message)
            b.writeInteger(UInt32(truncatingIfNeeded: r.attributes.count), endianness: .big)
            for a in r.attributes {
                b.writeCaptureString(a.key)
                b.writeCaptureString(a.value)
            }
            if let p = r.payload { b.writeCaptureBytes(p) }
        }
    }

    /// Decodes a body of a known type. Returns nil for a type this module does not know. Bytes after
    /// the known fields are ignored (fields appended by later writers), except for frames, whose
    /// payload runs to the end of the body.
    static func decode(type: CaptureRecordType, body: ByteBuffer) throws(CaptureBodyError) -> CaptureRecord? {
        guard type.isKnown else { return nil }
        var r = CaptureBodyReader(body)
        let time = try r.timestamp()
        switch type {
        case .connectionOpened:
            let id: UInt64 = try r.integer("connection id")
            let node: Int32 = try r.integer("node id")
            let client = try r.string("client address")
            let listener = try r.string("listener address")
            let upstream = try r.string("upstream address")
            let role = try r.string("role")
            return .connectionOpened(
                ConnectionOpenedRecord(
                    time: time, connectionId: id, clientAddress: client, listenerAddress: listener,
                    upstreamAddress: upstream, nodeId: node, role: role))
        case .frame:
            let id: UInt64 = try r.integer("connection id")
            let rawDirection: UInt8 = try r.integer("direction")
            guard let direction = FrameDirection(rawValue: rawDirection) else {
                throw CaptureBodyError(offset: r.offset - 1, what: "invalid frame direction \(rawDirection)")
            }
            let flags: UInt8 = try r.integer("flags")
            let wireLength: UInt32 = try r.integer("wire length")
            return .frame(
                FrameRecord(
                    time: time, connectionId: id, direction: direction, flags: FrameFlags(rawValue: flags),
                    wireLength: wireLength, payload: r.rest()))
        case .addressMapping:
            let node: Int32 = try r.integer("node id")
            let upstreamPort: Int32 = try r.integer("upstream port")
            let proxyPort: Int32 = try r.integer("proxy port")
            let upstreamHost = try r.string("upstream host")
            let proxyHost = try r.string("proxy host")
            return .addressMapping(
                AddressMappingRecord(
                    time: time, nodeId: node, upstreamHost: upstreamHost, upstreamPort: upstreamPort,
                    proxyHost: proxyHost, proxyPort: proxyPort))
        case .connectionClosed:
            let id: UInt64 = try r.integer("connection id")
            let by: UInt8 = try r.integer("closed by")
            let reason = try r.string("reason")
            return .connectionClosed(
                ConnectionClosedRecord(time: time, connectionId: id, closedBy: ConnectionCloser(rawValue: by), reason: reason))
        case .event:
            let presence: UInt8 = try r.integer("presence flags")
            let id: UInt64 = try r.integer("connection id")
            let kind = try r.string("kind")
            let message = try r.string("message")
            let count: UInt32 = try r.integer("attribute count")
            // Each attribute takes at least 8 bytes; check before reserving.
            guard Int(count) <= r.buffer.readableBytes / 8 else {
                throw CaptureBodyError(offset: r.offset - 4, what: "attribute count \(count) exceeds the bytes left")
            }
            var attributes = [EventRecord.Attribute]()
            attributes.reserveCapacity(Int(count))
            for _ in 0..<count {
                let key = try r.string("attribute key")
                let value = try r.string("attribute value")
                attributes.append(EventRecord.Attribute(key, value))
            }
            let payload = presence & EventPresence.payload != 0 ? try r.bytes("payload") : nil
            return .event(
                EventRecord(
                    time: time, connectionId: presence & EventPresence.connectionId != 0 ? id : nil,
                    kind: EventRecord.Kind(rawValue: kind), message: message, attributes: attributes, payload: payload))
        default:
            return nil
        }
    }
}

/// Bits of an event body's presence byte.
enum EventPresence {
    static let connectionId: UInt8 = 1 << 0
    static let payload: UInt8 = 1 << 1
}
