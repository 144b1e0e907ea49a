import Foundation
import Logging
import PostgresNIO
import TokenAuthority

/// Throwaway PostgreSQL databases for the PostgreSQL store's tests, on the server
/// that `TOKEN_AUTHORITY_TEST_POSTGRES_URL` names, e.g.
/// `postgresql://postgres@127.0.0.1:55432/postgres` as `scripts/postgres-cluster start`
/// prints it. That user must be allowed to create databases.
///
/// Without the variable the PostgreSQL tests are skipped
/// (`.enabled(if: PostgresTestDatabase.isConfigured)`), so the suite runs on a
/// machine without PostgreSQL; CI sets it.
public enum PostgresTestDatabase {
    public static let environmentVariable = "TOKEN_AUTHORITY_TEST_POSTGRES_URL"

    /// True when the variable names a server: the PostgreSQL tests run.
    public static var isConfigured: Bool { server != nil }

    /// The server's settings, read from the variable; `nil` when it is absent or not a
    /// `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE` URL.
    public static var server: PostgreSQLSettings? {
        guard let text = ProcessInfo.processInfo.environment[environmentVariable], !text.isEmpty else { return nil }
        return settings(fromURL: text)
    }

    public static func settings(fromURL text: String) -> PostgreSQLSettings? {
        guard let url = URLComponents(string: text), ["postgresql", "postgres"].contains(url.scheme ?? ""),
            let host = url.host, !host.isEmpty
        else { return nil }
        let database = String(url.path.drop(while: { $0 == "/" }))
        return PostgreSQLSettings(
            host: host, port: url.port ?? 5432, username: url.user ?? "postgres",
            database: database.isEmpty ? "postgres" : database, password: url.password)
    }

    /// Creates a database of its own with a unique name, hands `body` its settings,
    /// and drops it afterwards (also when `body` throws), closing whatever
    /// connections to it are still open.
    public static func withFreshDatabase<T: Sendable>(
        _ body: (PostgreSQLSettings) async throws -> T
    ) async throws -> T {
        guard let server else { throw TestDatabaseError("\(environmentVariable) is not set") }
        // A name of the test's own making (never input): identifiers cannot be bound.
        let name = "token_authority_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE DATABASE \(name)", on: server)
        var settings = server
        settings.database = name
        do {
            let result = try await body(settings)
            try await execute("DROP DATABASE \(name) WITH (FORCE)", on: server)
            return result
        } catch {
            try? await execute("DROP DATABASE \(name) WITH (FORCE)", on: server)
            throw error
        }
    }

    /// Runs `body` on a connection of its own to the database of `settings`: for a
    /// test to read or write rows with SQL behind the store's back.
    public static func withConnection<T>(
        to settings: PostgreSQLSettings, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Runs one statement on the database of `settings` and returns every row.
    @discardableResult
    public static func query(_ query: PostgresQuery, on settings: PostgreSQLSettings) async throws -> [PostgresRow] {
        try await withConnection(to: settings) { connection in
            try await connection.query(query, logger: logger).collect()
        }
    }

    /// The first column of the first row, e.g. of `SELECT count(*) …`.
    public static func value<T: PostgresDecodable>(
        _ type: T.Type, _ query: PostgresQuery, on settings: PostgreSQLSettings
    ) async throws -> T? {
        try await self.query(query, on: settings).first?.decode(T.self)
    }

    private static func execute(_ sql: String, on settings: PostgreSQLSettings) async throws {
        try await query(PostgresQuery(unsafeSQL: sql), on: settings)
    }

    /// PostgresNIO's trace level would log the messages exchanged: keep it quiet.
    public static let logger = Logger(label: "token-authority.test-postgres", factory: { _ in SwiftLogNoOpLogHandler() })
}

public struct TestDatabaseError: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
