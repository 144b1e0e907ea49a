import Hummingbird
import HummingbirdCore
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
    ServerMetrics.bootstrap()
    let server = services.configuration.server
    let limits = services.configuration.security.http
    let router = buildRouter(services: services)
    let http1 = HTTPServerBuilder.framedHTTP1(
        configuration: HTTP1Channel.Configuration(limits), maximumBodySize: limits.maxBodySize,
        routes: Set(router.routes.map { "\($0.path)" }))
    return Application(
        router: router,
        server: try certificate.map { try .tls(http1, tlsConfiguration: $0.tlsConfiguration) } ?? http1,
        configuration: .init(address: .hostname(server.hostname, port: server.port), serverName: "token-authority"),
        services: [
            StoreMaintenanceService(store: services.store, clients: services.clients),
            TokenCleanupService(services: services, logger: logger),
        ],
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? server.port
            services.issuer.serverBound(toPort: port)
            await onListening(port)
        },
        logger: logger)
}

/// The routes (README, "How tokens behave" and "Running it in production"), behind the request log, the request metrics and the
/// `[security.source_limits]` check.
public func buildRouter(services: TokenAuthorityServices) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: RequestMetricsMiddleware())
    if let limiter = services.sourceLimiter {
        router.add(middleware: SourceLimitMiddleware(limiter: limiter, source: services.requestSource, pages: services.signInPages))
    }
    let maximumBodySize = services.configuration.security.http.maxBodySize
    router.addRoutes(TokenController(endpoint: services.tokenEndpoint, maximumBodySize: maximumBodySize).endpoints)
    router.addRoutes(
        TokenStatusController(
            introspection: services.introspectionEndpoint, revocation: services.revocationEndpoint,
            maximumBodySize: maximumBodySize
        ).endpoints)
    router.addRoutes(DiscoveryController(services: services).endpoints)
    router.addRoutes(
        SignInController(
            services: services, pages: services.signInPages, logo: services.signInLogo, maximumBodySize: maximumBodySize
        ).endpoints)
    router.addRoutes(UserInfoController(endpoint: services.userInfoEndpoint).endpoints)
    router.addRoutes(HealthController(store: services.store).endpoints)
    router.addRoutes(MetricsController().endpoints)
    // Added after the routes, so it wraps only the answer for a request no route matched
    // (Hummingbird wraps a route in the middleware added before it, and that answer in all).
    router.add(
        middleware: MethodNotAllowedMiddleware(
            routes: router.routes.map { ("\($0.path)", $0.method) }, getOnly: SignInController.getOnlyPaths))
    return router
}

extension HTTP1Channel.Configuration {
    /// `[security.http]`: header size bounded in the HTTP decoder; a request has
    /// `request_timeout` to arrive once begun, and a connection may sit idle as long
    /// (and `RequestDeadlineHandler.grace`: see there).
    init(_ limits: SecuritySettings.HTTPLimits) {
        let timeout = TimeAmount.seconds(Int64(limits.requestTimeout))
        self.init(
            additionalChannelHandlers: [RequestDeadlineHandler(timeout: timeout)],
            idleTimeout: timeout + RequestDeadlineHandler.grace,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: limits.maxHeaderSize, maxHeaderListSize: limits.maxHeaderSize,
                maxHeaderFieldCount: 100))
    }
}
