import NIOSSL
import PostgresNIO
import TokenAuthority

/// `[database] tls` as PostgresNIO takes it, for the first connection and for the pool.
enum PostgresTLS {
    static func modes(for settings: PostgreSQLSettings) throws
        -> (PostgresConnection.Configuration.TLS, PostgresClient.Configuration.TLS)
    {
        switch settings.tls {
        case .disable:
            return (.disable, .disable)
        case .require:
            // Encrypted, the certificate not checked: libpq's sslmode=require.
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .none
            return (.require(try NIOSSLContext(configuration: tls)), .require(tls))
        case .verifyFull:
            // The chain checked against caFile (PEM) or the system's roots, and the
            // certificate's names against the host: libpq's sslmode=verify-full.
            // PostgresNIO checks the name only for a host name (an IP address cannot
            // go into SNI, and it then skips the check), so an IP address is refused
            // rather than silently left unchecked.
            guard !isIPAddress(settings.host) else {
                throw PostgresOpenError(
                    doing: "connect to PostgreSQL", url: settings.redactedURL,
                    reason: "tls = \"verify-full\" needs a host name that the server's certificate names, not an IP address")
            }
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let caFile = settings.caFile { tls.trustRoots = .file(caFile) }
            return (.require(try NIOSSLContext(configuration: tls)), .require(tls))
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
