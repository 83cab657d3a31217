import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A scripted Kafka broker on 127.0.0.1: decodes each request with the generated codec and answers with
/// whatever `respond` returns (nil: no answer). Keeps every decoded request, in arrival order.
final class ScriptedBroker: Sendable {
    typealias Responder = @Sendable (KafkaDecodedRequest) -> (any KafkaMessage)?

    let channel: any Channel
    private let seen = NIOLockedValueBox<[KafkaDecodedRequest]>([])
    private let children = NIOLockedValueBox<[any Channel]>([])

    var port: Int { channel.localAddress?.port ?? 0 }

    /// Listens on `port` (0: a free one).
    init(group: any EventLoopGroup, port: Int = 0, respond: @escaping Responder) async throws {
        let seen = self.seen
        let children = self.children
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                children.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ScriptedBrokerHandler(respond: respond, seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    /// Stops listening; connections already open stay.
    func stop() async {
        try? await channel.close()
    }

    /// Stops listening and drops every connection, like a broker process that died.
    func stopAll() async {
        try? await channel.close()
        for c in children.withLockedValue({ $0 }) { try? await c.close() }
    }

    /// The requests decoded so far.
    var requests: [KafkaDecodedRequest] { seen.withLockedValue { $0 } }

    /// The API keys of the requests so far.
    var requestKeys: [Int16] { requests.map(\.header.requestApiKey) }
}

/// The broker's side of one connection: frames in, the responder's answer out with the request's
/// correlation id; an undecodable request closes the connection.
final class ScriptedBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let respond: ScriptedBroker.Responder
    let seen: NIOLockedValueBox<[KafkaDecodedRequest]>

    init(respond: @escaping ScriptedBroker.Responder, seen: NIOLockedValueBox<[KafkaDecodedRequest]>) {
        self.respond = respond
        self.seen = seen
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let request = try? KafkaFrameCodec.decodeRequest(unwrapInboundIn(data)) else {
            context.close(promise: nil)
            return
        }
        seen.withLockedValue { $0.append(request) }
        guard let body = respond(request) else { return }
        var header = ResponseHeader()
        header.correlationId = request.header.correlationId
        let payload = KafkaFrameCodec.encodeResponse(
            header: header, body: body, apiKey: request.header.requestApiKey, apiVersion: request.apiVersion)
        var out = context.channel.allocator.buffer(capacity: payload.readableBytes + 4)
        out.writeInteger(Int32(payload.readableBytes))
        out.writeImmutableBuffer(payload)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}
