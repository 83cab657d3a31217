import KafkaEndpoints
import Testing

struct HostPortTests {
    @Test(arguments: [
        ("127.0.0.1:9092", "127.0.0.1", 9092), ("[::1]:9092", "::1", 9092), (":9092", "127.0.0.1", 9092),
        ("broker-1:0", "broker-1", 0), ("[fe80::1]:65535", "fe80::1", 65535),
    ])
    func parses(_ text: String, _ host: String, _ port: Int) {
        #expect(HostPort(text) == HostPort(host: host, port: port))
    }

    @Test(arguments: ["9092", "::1:9092", "[::1]9092", "host:", "host:65536", "host:-1", "[::1:9092"])
    func rejects(_ text: String) {
        #expect(HostPort(text) == nil)
    }

    @Test(arguments: ["127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "localhost", "LOCALHOST", "::ffff:127.0.0.1"])
    func loopback(_ host: String) {
        #expect(HostPort(host: host, port: 1).isLoopback)
    }

    @Test(arguments: ["0.0.0.0", "::", "10.0.0.1", "192.0.2.1", "128.0.0.1", "127.0.0.1.example.com", "localhost.example.com", "::2", "::ffff:10.0.0.1", "broker-1"])
    func notLoopback(_ host: String) {
        #expect(!HostPort(host: host, port: 1).isLoopback)
    }
}
