import NIOCore
import NIOEmbedded
import Testing

@testable import KafkaProtocol

/// Bad input never crashes and never allocates on an unchecked length: every failure is a typed
/// error naming the API, version, field path and byte offset.
@Suite struct MalformedInputTests {
    func frame(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    /// A valid Metadata v12 request with a topic name, as bytes.
    func metadataRequest() -> ByteBuffer {
        var header = RequestHeader()
        header.requestApiKey = 3
        header.requestApiVersion = 12
        header.correlationId = 42
        header.clientId = "c"
        var body = MetadataRequest()
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = "orders"
        body.topics = [t]
        return KafkaFrameCodec.encodeRequest(header: header, body: body)
    }

    /// A response written in another version's layout is named by the versions it decodes under.
    @Test func aResponseInAnotherVersionsLayoutNamesThatVersion() {
        var h = ResponseHeader()
        h.correlationId = 7
        var body = FetchResponse()
        var t = FetchResponse.FetchableTopicResponse()
        t.topic = "orders"
        var p = FetchResponse.PartitionData()
        p.highWatermark = 5
        p.lastStableOffset = 5
        p.logStartOffset = 0
        t.partitions = [p]
        body.responses = [t]
        // Fetch v5 and v6 share a layout; v4 lacks LogStartOffset.
        let v5 = KafkaFrameCodec.encodeResponse(header: h, body: body, apiKey: 1, apiVersion: 5)
        #expect(KafkaFrameCodec.responseVersionsThatDecode(v5, apiKey: 1, besides: 4) == [5, 6])
        #expect(KafkaFrameCodec.responseVersionsThatDecode(v5, apiKey: 1, besides: 5) == [6])
        #expect(KafkaFrameCodec.responseVersionsThatDecode(ByteBuffer(bytes: [0, 0, 0, 7, 1]), apiKey: 1, besides: 4).isEmpty)
        #expect(KafkaFrameCodec.responseVersionsThatDecode(v5, apiKey: 999, besides: 0).isEmpty)
    }

    @Test func versionListsAreWrittenAsRuns() {
        #expect(KafkaFrameCodec.describeVersions([5]) == "v5")
        #expect(KafkaFrameCodec.describeVersions([6, 5, 7]) == "v5-v7")
        #expect(KafkaFrameCodec.describeVersions([2, 5, 6, 9]) == "v2, v5-v6, v9")
    }

    @Test func everyTruncationIsATypedErrorWithAnOffset() throws {
        let full = metadataRequest()
        #expect(throws: Never.self) { try KafkaFrameCodec.decodeRequest(full) }
        for cut in 0..<full.readableBytes {
            let partial = full.getSlice(at: 0, length: cut) ?? ByteBuffer()
            do {
                _ = try KafkaFrameCodec.decodeRequest(partial)
                Issue.record("a request cut at \(cut) of \(full.readableBytes) bytes decoded")
            } catch {
                #expect(error.offset <= cut)
                if cut >= 8 {
                    #expect(error.apiKey == 3 && error.apiVersion == 12 && error.apiName == "MetadataRequest")
                }
                if case .truncated = error.kind {} else if case .lengthTooLarge = error.kind {} else {
                    Issue.record("cut at \(cut): unexpected \(error)")
                }
            }
        }
    }

    @Test func errorNamesTheFieldPath() throws {
        var bytes = Array(metadataRequest().readableBytesView)
        // Header v2: key(2) version(2) corr(4) clientId(2+1) tags(1) = 12; then Topics count (compact) at 12,
        // then the topic: TopicId (16) then Name length at 29. Make the name length huge.
        bytes[29] = 0x7f
        do {
            _ = try KafkaFrameCodec.decodeRequest(frame(bytes))
            Issue.record("decoded")
        } catch {
            #expect(error.pathString == "Topics[0].Name")
            #expect(error.offset == 29)
            #expect(error.description.contains("MetadataRequest v12 Topics[0].Name at offset 29"))
            if case .lengthTooLarge(let n, _) = error.kind { #expect(n == 0x7e) } else { Issue.record("\(error)") }
        }
    }

    @Test func negativeLengthsAndCountsAreRejected() throws {
        // ProduceRequest v3 (non-flexible): TransactionalId int16 -1 (null ok), Acks, Timeout, then TopicData count -5.
        var w = KafkaWriter()
        w.writeInt16(-1)
        w.writeInt16(1)
        w.writeInt32(1000)
        w.writeInt32(-5)
        do {
            _ = try ProduceRequest.decode(w.buffer, version: 3)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .negativeLength(-5))
            #expect(error.pathString == "TopicData")
        }
        // A string length of -2.
        var s = KafkaWriter()
        s.writeInt16(-2)
        do {
            _ = try ProduceRequest.decode(s.buffer, version: 3)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .negativeLength(-2))
            #expect(error.pathString == "TransactionalId")
        }
    }

    @Test func hugeCountsFailBeforeAllocating() throws {
        // 2^31-1 topics claimed in 4 bytes: rejected against the bytes that remain, not allocated.
        var w = KafkaWriter()
        w.writeInt32(Int32.max)
        do {
            _ = try MetadataRequest.decode(w.buffer, version: 1)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .lengthTooLarge(Int64(Int32.max), limit: 0))
        }
    }

    @Test func invalidVarintsAreRejected() throws {
        // Compact array count as a 6-byte varint.
        let body = frame([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
        do {
            _ = try MetadataRequest.decode(body, version: 12)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .invalidVarint)
            #expect(error.offset == 0)
        }
    }

    @Test func unknownTaggedFieldsAreKeptAndReEmitted() throws {
        var body = ApiVersionsRequest()
        body.clientSoftwareName = "kt"
        body.clientSoftwareVersion = "1"
        body.unknownTaggedFields = [KafkaTaggedField(tag: 900, data: ByteBuffer(bytes: [1, 2, 3]))]
        let bytes = body.encoded(version: 3)
        let decoded = try ApiVersionsRequest.decode(bytes, version: 3)
        #expect(decoded.unknownTaggedFields == body.unknownTaggedFields)
        #expect(decoded.encoded(version: 3) == bytes)
        // Out-of-order tags cannot be re-emitted byte-exact: a typed error, not silent reordering.
        var w = KafkaWriter()
        w.writeString("kt", compact: true)
        w.writeString("1", compact: true)
        w.writeUnsignedVarint(2)
        for tag in [UInt32(7), 3] {
            w.writeUnsignedVarint(tag)
            w.writeUnsignedVarint(0)
        }
        #expect(throws: KafkaDecodingError.self) { try ApiVersionsRequest.decode(w.buffer, version: 3) }
    }

    @Test func unknownApiKeysAndVersionsAreTypedErrorsButForwardable() throws {
        let unknownKey = frame([0x03, 0xE7, 0, 1, 0, 0, 0, 9, 0, 0])
        do {
            _ = try KafkaFrameCodec.decodeRequest(unknownKey)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .unknownApiKey(999))
        }
        let newerVersion = frame([0, 3, 0x00, 99, 0, 0, 0, 9, 0, 0])
        do {
            _ = try KafkaFrameCodec.decodeRequest(newerVersion)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .unsupportedVersion(apiKey: 3, version: 99))
            #expect(error.apiName == "MetadataRequest")
        }
        // What a proxy needs to forward and pair them is still there.
        #expect(KafkaRequestPrefix(payload: unknownKey) == KafkaRequestPrefix(apiKey: 999, apiVersion: 1, correlationId: 9))
        #expect(KafkaRequestPrefix(payload: newerVersion)?.correlationId == 9)
        #expect(KafkaRequestPrefix(payload: frame([0, 1, 0])) == nil)
    }

    @Test func trailingBytesAreReported() throws {
        var bytes = ApiVersionsRequest().encoded(version: 0)
        bytes.writeInteger(UInt8(7))
        do {
            _ = try ApiVersionsRequest.decode(bytes, version: 0)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .trailingBytes(count: 1))
            #expect(error.offset == 0)
        }
    }

    @Test func invalidUTF8IsRejected() throws {
        var w = KafkaWriter()
        w.writeInt32(1)
        w.writeInt16(2)
        w.buffer.writeBytes([0xc3, 0x28])
        do {
            _ = try MetadataRequest.decode(w.buffer, version: 1)
            Issue.record("decoded")
        } catch {
            #expect(error.kind == .invalidUTF8)
            #expect(error.pathString == "Topics[0].Name")
        }
    }
}

/// The frame decoder: sizes checked before anything is sliced, frames split anywhere reassembled.
@Suite struct FramingTests {
    @Test func framesSplitAnywhereAreReassembled() throws {
        var stream = ByteBuffer()
        var expected: [ByteBuffer] = []
        for n in [0, 1, 5, 300, 70_000] {
            let payload = ByteBuffer(bytes: (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31) })
            stream.writeInteger(Int32(n))
            stream.writeImmutableBuffer(payload)
            expected.append(payload)
        }
        for chunk in [1, 2, 3, 7, 4096, stream.readableBytes] {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(KafkaFrameDecoder(maxFrameBytes: 1 << 20)))
            var copy = stream
            while copy.readableBytes > 0 {
                let piece = copy.readSlice(length: min(chunk, copy.readableBytes)) ?? ByteBuffer()
                try channel.writeInbound(piece)
            }
            var got: [ByteBuffer] = []
            while let f = try channel.readInbound(as: ByteBuffer.self) { got.append(f) }
            #expect(got == expected, "chunk size \(chunk)")
            _ = try channel.finish()
        }
    }

    @Test(arguments: [Int32(-1), Int32.min, Int32(1025)])
    func badSizesFailBeforeAllocation(size: Int32) throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(size)
        let framer = KafkaFramer(maxFrameBytes: 1024)
        #expect(throws: KafkaFramingError(declaredSize: size, maxFrameBytes: 1024)) { try framer.next(from: &buffer) }
        #expect(buffer.readerIndex == 0)
    }

    @Test func incompleteFramesWait() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(Int32(10))
        buffer.writeBytes([1, 2, 3])
        #expect(try KafkaFramer().next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 7)
    }
}
