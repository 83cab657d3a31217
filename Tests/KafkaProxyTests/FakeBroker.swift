#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A scripted Kafka broker for proxy tests: decodes each request with the generated codec and answers
/// with whatever `respond` returns (nil: no answer). Records what it saw.
final class FakeBroker: Sendable {
    typealias Responder = @Sendable (KafkaDecodedRequest) -> (any KafkaMessage)?

    let group: any EventLoopGroup
    let channel: any Channel
    let seen = NIOLockedValueBox<[(apiKey: Int16, correlationId: Int32, remote: String)]>([])
    let connections = NIOLockedValueBox(0)
    let children = NIOLockedValueBox<[any Channel]>([])

    var port: Int { channel.localAddress?.port ?? 0 }

    init(group: any EventLoopGroup, port: Int = 0, respond: @escaping Responder) async throws {
        self.group = group
        let seen = self.seen
        let connections = self.connections
        let children = self.children
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                connections.withLockedValue { $0 += 1 }
                children.withLockedValue { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(FakeBrokerHandler(respond: respond, seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
    }

    func stop() async {
        try? await channel.close()
    }

    /// Stops listening and drops every connection, like a broker process that died.
    func stopAll() async {
        try? await channel.close()
        for c in children.withLockedValue({ $0 }) { try? await c.close() }
    }

    var requestKeys: [Int16] { seen.withLockedValue { $0.map(\.apiKey) } }
}

final class FakeBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let respond: FakeBroker.Responder
    let seen: NIOLockedValueBox<[(apiKey: Int16, correlationId: Int32, remote: String)]>

    init(respond: @escaping FakeBroker.Responder, seen: NIOLockedValueBox<[(apiKey: Int16, correlationId: Int32, remote: String)]>) {
        self.respond = respond
        self.seen = seen
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let request = try? KafkaFrameCodec.decodeRequest(frame) else {
            context.close(promise: nil)
            return
        }
        let remote = context.channel.remoteAddress?.description ?? "?"
        seen.withLockedValue { $0.append((request.header.requestApiKey, request.header.correlationId, remote)) }
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

/// A blocking client for tests: sends frames and reads frames over a plain socket.
final class RawKafkaClient {
    let fd: Int32

    /// An accepted connection (see `RawKafkaListener`).
    init(fd: Int32) {
        self.fd = fd
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw TestFailure("connect to \(port) failed: errno \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func sendRaw(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestFailure("send failed: errno \(errno)") }
            off += n
        }
    }

    func send(request body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32, clientId: String = "test") throws {
        var header = RequestHeader()
        header.requestApiKey = apiKey
        header.requestApiVersion = version
        header.correlationId = correlationId
        header.clientId = clientId
        let payload = KafkaFrameCodec.encodeRequest(header: header, body: body)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: Int32(payload.readableBytes).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload.readableBytesView)
        try sendRaw(bytes)
    }

    /// Reads one frame payload, or nil when the peer closed.
    func readFrame() throws -> ByteBuffer? {
        guard let sizeBytes = try readExactly(4) else { return nil }
        let size = Int(Int32(bigEndian: sizeBytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard let body = try readExactly(size) else { return nil }
        return ByteBuffer(bytes: body)
    }

    /// True when the peer closed the connection (EOF) within the receive timeout.
    func waitForClose() -> Bool {
        var b = [UInt8](repeating: 0, count: 1)
        return recv(fd, &b, 1, 0) == 0
    }

    func readExactly(_ n: Int) throws -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let r = out[off...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, n - off, 0) }
            if r == 0 { return nil }
            if r < 0 { throw TestFailure("recv failed: errno \(errno)") }
            off += r
        }
        return out
    }
}

/// A listening socket on loopback whose connections are driven by hand (`RawKafkaClient`), for a
/// broker that must send a response in pieces.
final class RawKafkaListener {
    let fd: Int32
    let port: Int

    /// Listens on `port` (0: any free port).
    init(port wanted: Int = 0) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(wanted).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        if !ok {
            close(fd)
            throw TestFailure("cannot listen: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }

    /// Waits up to 10 s for the next connection.
    func accept() throws -> RawKafkaClient {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 10_000) == 1 else { throw TestFailure("no connection within 10 s") }
        let c = Glibc.accept(fd, nil, nil)
        if c < 0 { throw TestFailure("accept failed: errno \(errno)") }
        return RawKafkaClient(fd: c)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}
