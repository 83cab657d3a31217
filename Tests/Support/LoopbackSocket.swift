import Foundation

/// A TCP socket bound to a free port on 127.0.0.1 (listening, or just holding the port).
final class LoopbackSocket {
    let fd: Int32
    let port: Int

    static func address(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return addr
    }

    /// Binds `port` (0: a free one); with `listening`, also listens with room for `backlog` connections.
    init(port wanted: Int = 0, listening: Bool, backlog: Int32 = 1) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = Self.address(port: wanted)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && (!listening || listen(fd, backlog) == 0) && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else {
            let e = errno
            Glibc.close(fd)
            throw TestFailure("cannot bind 127.0.0.1:\(wanted): errno \(e)")
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    func close() { _ = Glibc.close(fd) }
}

extension Harness {
    /// A port on 127.0.0.1 that nothing listens on now (bound to port 0, read back, released).
    static func freePort() -> Int {
        guard let socket = try? LoopbackSocket(listening: false) else { return 0 }
        defer { socket.close() }
        return socket.port
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = LoopbackSocket.address(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
