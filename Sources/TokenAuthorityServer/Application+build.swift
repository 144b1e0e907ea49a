import Hummingbird
import Logging
import NIOCore
import TokenAuthority

public struct TLSNotSupportedError: Error, CustomStringConvertible {
    public var description: String {
        "[server.tls] enabled = true: HTTPS is not supported yet; set enabled = false and terminate TLS in a proxy"
    }
}

/// Builds the HTTP application over prepared services.
/// - Parameter onListening: called with the bound port once the server accepts connections.
public func buildApplication(
    services: TokenAuthorityServices, logger: Logger,
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let server = services.configuration.server
    guard !server.tls.enabled else { throw TLSNotSupportedError() }
    return Application(
        router: buildRouter(services: services, logger: logger),
        configuration: .init(address: .hostname(server.hostname, port: server.port), serverName: "token-authority"),
        services: [
            CheckpointService(checkpointer: services.checkpointer), TokenCleanupService(services: services, logger: logger),
        ],
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? server.port) },
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
    router.addRoutes(HealthController(store: services.store, logger: logger).endpoints)
    return router
}
