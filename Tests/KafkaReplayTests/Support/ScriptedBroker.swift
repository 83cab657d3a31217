import Foundation
import KafkaProtocol
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A scripted Kafka broker: decodes each request and answers with whatever `respond` returns
/// (nil: no answer). Keeps every decoded request. (The pattern of KafkaProxyTests' FakeBroker.)
final class ScriptedBroker: Sendable {
    typealias Responder = @Sendable (KafkaDecodedRequest) -> (any KafkaMessage)?

    let channel: any Channel
    let seen = SeenRequests()

    var port: Int { channel.localAddress?.port ?? 0 }

    init(group: any EventLoopGroup, respond: @escaping Responder) async throws {
        let seen = self.seen
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(KafkaFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(ScriptedBrokerHandler(respond: respond, seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async {
        try? await channel.close()
    }

    var requests: [KafkaDecodedRequest] { seen.all }
}

/// Requests a scripted broker decoded, in arrival order.
final class SeenRequests: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [KafkaDecodedRequest] = []

    func append(_ r: KafkaDecodedRequest) { lock.withLock { requests.append(r) } }
    var all: [KafkaDecodedRequest] { lock.withLock { requests } }
}

final class ScriptedBrokerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let respond: ScriptedBroker.Responder
    let seen: SeenRequests

    init(respond: @escaping ScriptedBroker.Responder, seen: SeenRequests) {
        self.respond = respond
        self.seen = seen
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let request = try? KafkaFrameCodec.decodeRequest(unwrapInboundIn(data)) else {
            context.close(promise: nil)
            return
        }
        seen.append(request)
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

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw TestError("connect to \(port) failed: errno \(errno)") }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ payload: ByteBuffer) throws {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: Int32(payload.readableBytes).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload.readableBytesView)
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestError("send failed: errno \(errno)") }
            off += n
        }
    }

    /// Reads one frame payload, or nil when the peer closed.
    func readFrame() throws -> ByteBuffer? {
        guard let sizeBytes = try readExactly(4) else { return nil }
        let size = Int(Int32(bigEndian: sizeBytes.withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }))
        guard let body = try readExactly(size) else { return nil }
        return ByteBuffer(bytes: body)
    }

    private func readExactly(_ n: Int) throws -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: n)
        var off = 0
        while off < n {
            let r = out[off...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, n - off, 0) }
            if r == 0 { return nil }
            if r < 0 { throw TestError("recv failed: errno \(errno)") }
            off += r
        }
        return out
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ s: String) { description = s }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
func closedPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
