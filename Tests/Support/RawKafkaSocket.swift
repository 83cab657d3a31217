#if canImport(Glibc)
import Glibc
#endif
import KafkaProtocol
import NIOCore

/// A blocking Kafka connection over a plain socket, for tests that need byte-level control: malformed or
/// half-sent frames, a thousand idle connections, waiting for the peer to close. (KafkaTapeTesting's
/// `RawKafkaClient` is the typed, one-request-at-a-time client for well-formed sessions.)
final class RawKafkaSocket {
    let fd: Int32

    /// An accepted connection (see `RawKafkaListener`).
    init(fd: Int32) {
        self.fd = fd
        Self.setReceiveTimeout(fd)
    }

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = LoopbackSocket.address(port: port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // No close here: `self` is whole, so `deinit` closes the descriptor when the init throws. A
        // second close would close whatever descriptor another thread opened under the same number.
        if rc != 0 { throw TestFailure("connect to \(port) failed: errno \(errno)") }
        Self.setReceiveTimeout(fd)
    }

    /// Reads give up after 10 s, so a test whose peer never answers fails instead of hanging.
    private static func setReceiveTimeout(_ fd: Int32) {
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends `bytes` as they are (no size prefix added).
    func sendRaw(_ bytes: [UInt8]) throws {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw TestFailure("send failed: errno \(errno)") }
            off += n
        }
    }

    /// Sends `payload` as one frame (size prefix added).
    func send(_ payload: ByteBuffer) throws {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: Int32(payload.readableBytes).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: payload.readableBytesView)
        try sendRaw(bytes)
    }

    /// Sends `body` as a request frame of `apiKey`/`version` with a v1+ header.
    func send(request body: any KafkaMessage, apiKey: Int16, version: Int16, correlationId: Int32, clientId: String = "test") throws {
        var header = RequestHeader()
        header.requestApiKey = apiKey
        header.requestApiVersion = version
        header.correlationId = correlationId
        header.clientId = clientId
        try send(KafkaFrameCodec.encodeRequest(header: header, body: body))
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

    /// Exactly `n` bytes, or nil when the peer closed first.
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

/// A listening socket on loopback whose connections are driven by hand (`RawKafkaSocket`), for a
/// broker that must send a response in pieces.
final class RawKafkaListener {
    private let socket: LoopbackSocket
    var port: Int { socket.port }

    /// Listens on `port` (0: any free port).
    init(port wanted: Int = 0) throws {
        socket = try LoopbackSocket(port: wanted, listening: true, backlog: 8)
    }

    deinit { socket.close() }

    /// Waits up to 10 s for the next connection.
    func accept() throws -> RawKafkaSocket {
        var p = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 10_000) == 1 else { throw TestFailure("no connection within 10 s") }
        let c = Glibc.accept(socket.fd, nil, nil)
        if c < 0 { throw TestFailure("accept failed: errno \(errno)") }
        return RawKafkaSocket(fd: c)
    }
}
