import NIOCore
import NIOSSL

/// TLS on either side of the proxy (swift-nio-ssl): clients connect with TLS to every proxy listener
/// (`--tls-cert/--tls-key`), and/or the proxy connects with TLS to the upstream (`--upstream-tls`,
/// `--upstream-ca`, optional client certificate). Kafka frames inside are recorded in clear: the
/// capture is the point of the tool, and it is created 0600.
public struct ProxyTLS: Sendable {
    /// Terminates client TLS on the proxy's listeners.
    public var server: NIOSSLContext?
    /// Originates TLS to the upstream.
    public var client: NIOSSLContext?

    /// TLS towards clients with `server`, towards the upstream with `client`; nil leaves that side in clear.
    public init(server: NIOSSLContext? = nil, client: NIOSSLContext? = nil) {
        self.server = server
        self.client = client
    }

    /// A certificate, key or CA file that cannot be loaded, or half of a pair of options given alone.
    public struct SetupError: Error, CustomStringConvertible {
        /// One line naming the file or options and what is wrong.
        public var description: String
    }

    /// Builds the contexts from PEM files; every failure names the file.
    public static func make(
        certificate: String?, key: String?, upstreamTLS: Bool, upstreamCA: String?, upstreamCertificate: String?,
        upstreamKey: String?
    ) throws(SetupError) -> ProxyTLS {
        var tls = ProxyTLS()
        func load<T>(_ what: String, _ path: String, _ body: () throws -> T) throws(SetupError) -> T {
            do { return try body() } catch { throw SetupError(description: "cannot load \(what) \(path): \(error)") }
        }
        switch (certificate, key) {
        case (let cert?, let key?):
            let chain = try load("certificate", cert) { try NIOSSLCertificate.fromPEMFile(cert) }
            let privateKey = try load("key", key) { try NIOSSLPrivateKey(file: key, format: .pem) }
            var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
            config.minimumTLSVersion = .tlsv12
            tls.server = try load("server TLS context from", cert) { try NIOSSLContext(configuration: config) }
        case (nil, nil):
            break
        default:
            throw SetupError(description: "--tls-cert and --tls-key go together")
        }
        if upstreamTLS {
            var config = TLSConfiguration.makeClientConfiguration()
            config.minimumTLSVersion = .tlsv12
            if let ca = upstreamCA {
                let roots = try load("CA", ca) { try NIOSSLCertificate.fromPEMFile(ca) }
                config.trustRoots = .certificates(roots)
            }
            switch (upstreamCertificate, upstreamKey) {
            case (let cert?, let key?):
                let chain = try load("client certificate", cert) { try NIOSSLCertificate.fromPEMFile(cert) }
                config.certificateChain = chain.map { .certificate($0) }
                config.privateKey = .privateKey(try load("client key", key) { try NIOSSLPrivateKey(file: key, format: .pem) })
            case (nil, nil):
                break
            default:
                throw SetupError(description: "--upstream-cert and --upstream-key go together")
            }
            tls.client = try load("client TLS context", upstreamCA ?? "(system roots)") { try NIOSSLContext(configuration: config) }
        } else if upstreamCA != nil || upstreamCertificate != nil || upstreamKey != nil {
            throw SetupError(description: "--upstream-ca, --upstream-cert and --upstream-key need --upstream-tls")
        }
        return tls
    }

    /// The handler for an upstream connection to `host`: SNI and hostname verification for names; for IP
    /// literals (which SNI cannot carry) the chain is verified against the trust roots without a name check.
    func clientHandler(host: String) throws -> NIOSSLClientHandler? {
        guard let client else { return nil }
        let isIP = host.contains(":") || host.split(separator: ".").count == 4 && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        return try NIOSSLClientHandler(context: client, serverHostname: isIP ? nil : host)
    }
}
