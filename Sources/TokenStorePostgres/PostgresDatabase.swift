import Logging
import PostgresNIO
import TokenAuthority

/// Opens the PostgreSQL store: one database shared by every instance
/// (docs/storage.md). The store itself is internal; the server sees it only as
/// `TokenDatabase`.
public enum PostgresDatabase {
    /// Connects, checks the server answers (`SELECT 1`), applies the pending
    /// migrations (docs/storage.md, "Migrations") and returns the store, whose pool
    /// runs until `close()`.
    ///
    /// - Throws: an error whose description is one line naming `settings.redactedURL` and the
    ///   reason (never the password), when the server cannot be reached or refuses
    ///   the login; `MigrationError` when the applied migrations do not match.
    public static func open(
        _ settings: PostgreSQLSettings, migrations: [Migration] = embeddedMigrations, now: Int64, logger: Logger
    ) async throws -> any TokenDatabase {
        try await PostgresStore.open(settings, migrations: migrations, now: now, logger: logger)
    }

    /// Applies the pending migrations on one connection of its own, under the
    /// migrations' advisory lock, and returns the names of the files it applied.
    public static func migrate(
        _ settings: PostgreSQLSettings, migrations: [Migration] = embeddedMigrations, now: Int64, logger: Logger
    ) async throws -> [String] {
        let (connection, quiet) = try await PostgresStore.connect(settings, logger: logger)
        do {
            let applied = try await PostgresMigrationRunner(migrations: migrations).migrate(connection, now: now, logger: quiet)
            try await connection.close()
            return applied
        } catch {
            try? await connection.close()
            if error is MigrationError { throw error }
            throw PostgresOpenError(
                doing: "migrate the PostgreSQL database", url: settings.redactedURL, reason: PostgresFailure.reason(error))
        }
    }
}

extension PostgresStore {
    /// How long a request waits for a connection when the server is out of reach.
    static let defaultLeaseTimeout: Duration = .seconds(10)

    /// `PostgresDatabase.open`, with the seams the tests need.
    /// One checked connection (`SELECT 1` answered), and the quieter logger the
    /// driver gets; an error is one line naming the database without its password.
    static func connect(
        _ settings: PostgreSQLSettings, logger: Logger, startupParameters: [(String, String)] = startupParameters
    ) async throws -> (PostgresConnection, Logger) {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .info)
        let url = settings.redactedURL
        let failure = { (error: any Error) in
            PostgresOpenError(doing: "connect to PostgreSQL", url: url, reason: PostgresFailure.reason(error))
        }
        let connectionTLS: PostgresConnection.Configuration.TLS
        do {
            connectionTLS = try PostgresTLS.modes(for: settings).0
        } catch let error as PostgresOpenError {
            throw error
        } catch {
            throw failure(error)
        }
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: connectionTLS)
        configuration.options.additionalStartupParameters = startupParameters
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
        } catch {
            throw failure(error)
        }
        do {
            try await connection.rows("SELECT 1", logger: quiet)
        } catch {
            try? await connection.close()
            throw failure(error)
        }
        return (connection, quiet)
    }

    static func open(
        _ settings: PostgreSQLSettings, migrations: [Migration], now: Int64, logger: Logger,
        leaseTimeout: Duration = defaultLeaseTimeout
    ) async throws -> PostgresStore {
        // One connection of its own first: its errors say why (the pool would only
        // retry in the background), and the migrations run on it under their lock.
        let (connection, quiet) = try await connect(settings, logger: logger)
        let url = settings.redactedURL
        let clientTLS = try PostgresTLS.modes(for: settings).1
        do {
            try await PostgresMigrationRunner(migrations: migrations).migrate(connection, now: now, logger: quiet)
            try await connection.close()
        } catch {
            try? await connection.close()
            if error is MigrationError { throw error }
            throw PostgresOpenError(
                doing: "migrate the PostgreSQL database", url: url, reason: PostgresFailure.reason(error))
        }

        var clientConfiguration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: clientTLS)
        clientConfiguration.options.maximumConnections = max(1, settings.poolSize)
        clientConfiguration.options.additionalStartupParameters = startupParameters
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: quiet)
        let runTask = Task { await client.run() }
        return PostgresStore(
            client: client, runTask: runTask, settings: settings, logger: logger, leaseTimeout: leaseTimeout)
    }

    /// Every connection starts with `synchronous_commit = on`, whatever the server's
    /// default: a revocation is acknowledged only once it is on disk, and issuance and a
    /// refresh's rotation turn it off for their own transaction alone (docs/storage.md,
    /// "PostgreSQL").
    static let startupParameters: [(String, String)] = [
        ("application_name", "token-authority"), ("synchronous_commit", "on"),
    ]
}

/// The store could not be opened: one line for the operator, naming the database
/// without its password, and why, e.g. "cannot connect to PostgreSQL at
/// postgresql://app@db:5432/tokens: password authentication failed for user "app"".
struct PostgresOpenError: Error, CustomStringConvertible {
    /// "connect to PostgreSQL", "migrate the PostgreSQL database".
    let doing: String
    /// `PostgreSQLSettings.redactedURL`.
    let url: String
    let reason: String

    var description: String { "cannot \(doing) at \(url): \(reason)" }
}
