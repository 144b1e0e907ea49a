import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import TokenAuthority

/// Builds the HTTP application over prepared services: HTTPS with `certificate`,
/// plain HTTP without one (`[server.tls] enabled = false`, behind a proxy).
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    services: TokenAuthorityServices, certificate: ServerCertificate?, logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let server = services.configuration.server
    return Application(
        router: buildRouter(services: services, logger: logger),
        server: try certificate.map { try .tls(.http1(), tlsConfiguration: $0.tlsConfiguration) } ?? .http1(),
        configuration: .init(address: .hostname(server.hostname, port: server.port), serverName: "token-authority"),
        services: [
            CheckpointService(checkpointer: services.checkpointer), TokenCleanupService(services: services, logger: logger),
        ],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? server.port
            services.issuer.serverBound(toPort: port)
            await onListening(port)
        },
        logger: logger)
}

/// The routes of SPEC §4 implemented so far.
public func buildRouter(services: TokenAuthorityServices, logger: Logger) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.addRoutes(TokenController(endpoint: services.tokenEndpoint, logger: logger).endpoints)
    router.addRoutes(
        TokenStatusController(
            introspection: services.introspectionEndpoint, revocation: services.revocationEndpoint, logger: logger
        ).endpoints)
    router.addRoutes(DiscoveryController(services: services, logger: logger).endpoints)
    router.addRoutes(HealthController(store: services.store, logger: logger).endpoints)
    return router
}
