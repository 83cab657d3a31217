import KafkaTape
import NIOCore
import NIOPosix

/// A minimal Kafka client for tests: one connection, typed requests in, decoded responses out,
/// correlation ids numbered from 1. Enough to talk to a mock broker or a real one without a client
/// library (`withMockBroker(capture:) { bootstrap in try await RawKafkaClient.connect(to: bootstrap) ... }`).
public actor RawKafkaClient {
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var nextCorrelationId: Int32 = 1
    /// The client id every request carries.
    public let clientId: String

    private init(channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, clientId: String) {
        self.channel = channel
        self.clientId = clientId
        // The channel's streams are taken apart once, here; the actor keeps them for its lifetime.
        inbound = channel.inbound.makeAsyncIterator()
        outbound = channel.outbound
    }

    /// Connects to `address` (`"127.0.0.1:PORT"`).
    public static func connect(to address: String, clientId: String = "kafkatape-raw-client") async throws -> RawKafkaClient {
        guard let hp = HostPort(address), hp.port > 0 else { throw KafkaTapeTestingError("address must be HOST:PORT, got '\(address)'") }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: hp.host, port: hp.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawKafkaClient(channel: channel, clientId: clientId)
    }

    /// Sends `body` as a request of `version` and waits for its response (one request at a time).
    public func send(_ body: some KafkaMessage, version: Int16) async throws -> KafkaDecodedResponse {
        let correlationId = nextCorrelationId
        nextCorrelationId += 1
        var header = RequestHeader()
        header.requestApiKey = type(of: body).apiKey
        header.requestApiVersion = version
        header.correlationId = correlationId
        header.clientId = clientId
        let payload = KafkaFrameCodec.encodeRequest(header: header, body: body)
        var frame = ByteBuffer()
        frame.writeInteger(Int32(payload.readableBytes), endianness: .big)
        frame.writeImmutableBuffer(payload)
        try await outbound.write(frame)
        // One request at a time: the iterator is taken out of the actor across the await.
        var iterator = inbound
        let next = try await iterator.next(isolation: self)
        inbound = iterator
        guard let response = next else {
            throw KafkaTapeTestingError("the broker closed the connection before answering \(type(of: body).schemaName) v\(version)")
        }
        return try KafkaFrameCodec.decodeResponse(response, apiKey: type(of: body).apiKey, apiVersion: version)
    }

    /// Closes the connection.
    public func close() async {
        outbound.finish()
        try? await channel.channel.close()
    }
}
