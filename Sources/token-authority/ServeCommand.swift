import ArgumentParser
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import TokenAuthority
import TokenAuthorityServer
import TokenStorage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Apply pending migrations, then serve until SIGTERM or SIGINT (in-flight requests finish).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        AllocatorSettings.apply()
        let loaded = try options.loadWithWarnings()
        let configuration = loaded.configuration
        // Both before anything logs or counts: swift-log and swift-metrics take one backend per process.
        ServerMetrics.bootstrap()
        let logging = configuration.logging
        let environmentLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"]
        let overridingLevel = environmentLevel.flatMap { Logger.Level(rawValue: $0.lowercased()) }
        let level = overridingLevel ?? Logger.Level(rawValue: logging.level) ?? .info
        LoggingSystem.bootstrap { _ in LineLogHandler(level: level, format: logging.format) }
        let logger = Logger(label: "token-authority")
        // Through the logger, so that a JSON log stays all JSON.
        for warning in loaded.warnings { logger.warning("\(warning)") }
        if let environmentLevel, overridingLevel == nil {
            logger.warning(
                "LOG_LEVEL is not a log level; using [logging] level",
                metadata: ["LOG_LEVEL": "\(environmentLevel)", "level": "\(level)"])
        }
        // The address and the certificate first: a mistake in either stops start-up before the
        // database is created, or a super admin password generated and shown for nothing.
        try await Self.checkListening(on: configuration.server)
        let tls = configuration.server.tls
        let certificate = try tls.enabled ? ServerCertificate.loadOrGenerate(tls) : nil
        let services = try await TokenAuthorityServices.open(
            configuration: configuration, migrations: try options.migrationFiles(), logger: logger)
        switch try await services.ensureSuperAdmin() {
        case .createdWithGeneratedPassword(let password):
            // Shown once, on the terminal only: never through the logger.
            printNow("Created the super admin account '\(configuration.superAdmin.username)' with the generated password: \(password)")
            printNow("It is stored hashed and will not be shown again; set [super_admin] password to choose one.")
        case .created:
            logger.info("created the super admin account", metadata: ["username": "\(configuration.superAdmin.username)"])
        case .passwordUpdated:
            logger.info("updated the super admin password from deployment.toml", metadata: ["username": "\(configuration.superAdmin.username)"])
        case .unchanged, .disabled:
            break
        }
        switch try await services.ensureSigningKey() {
        case .generated(let keyID):
            logger.info("generated the JWT signing key", metadata: ["kid": "\(keyID)"])
        case .configured(let keyID), .existing(let keyID):
            logger.info("JWT signing key", metadata: ["kid": "\(keyID)"])
        }
        if let certificate {
            let origin = certificate.origin == .generated ? "generated a self-signed certificate" : "TLS certificate"
            logger.info(
                "\(origin)",
                metadata: ["certificate": "\(tls.certificate)", "sha256_fingerprint": "\(certificate.fingerprint)"])
        }
        let scheme = certificate == nil ? "http" : "https"
        let hostname = configuration.server.hostname
        let app = try buildApplication(services: services, certificate: certificate, logger: logger) { port in
            printNow("token-authority listening on \(scheme)://\(hostname):\(port)")
        }
        try await app.runService()
        // Graceful shutdown: the server stopped accepting and answered what it had.
        try await services.close()
        logger.info("stopped; the database is closed")
    }
}

extension ServeCommand {
    /// Binds `[server] hostname` and `port` and lets them go: a hostname that names no
    /// address here, a port in use or one this user may not bind is an error naming both keys.
    static func checkListening(on server: DeploymentConfiguration.Server) async throws {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: server.hostname, port: server.port).get()
            try await channel.close()
        } catch {
            throw CommandError(
                "cannot listen on \(server.hostname):\(server.port) ([server] hostname and port): \(error)")
        }
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending migrations and exit.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let database = try options.load().database
        let applied = try await TokenStorage.migrate(
            database, migrations: try options.migrationFiles(), now: Clock.system.now(), logger: quietLogger)
        let name = database.displayName
        print(applied.isEmpty ? "\(name): schema is up to date" : "\(name): applied \(applied.joined(separator: ", "))")
    }
}
