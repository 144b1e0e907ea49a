import Logging
import TokenAuthority
import TokenStorePostgres
import TokenStoreSQLite

/// The one place that picks the store `[database] type` names and opens it: every
/// other module sees only `TokenDatabase` (docs/storage.md).
public enum TokenStorage {
    /// The migrations compiled into the binary for `type`.
    public static func embeddedMigrations(for type: DatabaseSettings.Kind) -> [Migration] {
        switch type {
        case .sqlite: SQLiteDatabase.embeddedMigrations
        case .postgresql: PostgresDatabase.embeddedMigrations
        }
    }

    /// Opens the configured database and applies pending migrations: `migrations`
    /// when given (`--migrations DIR`), else the embedded ones. SQLite creates the
    /// file when absent.
    public static func open(
        _ settings: DatabaseSettings, migrations: [Migration]? = nil, now: EpochMilliseconds, logger: Logger
    ) async throws -> any TokenDatabase {
        let migrations = migrations ?? embeddedMigrations(for: settings.type)
        switch settings.type {
        case .sqlite:
            return try SQLiteDatabase.open(path: settings.path, migrations: migrations, now: now)
        case .postgresql:
            return try await PostgresDatabase.open(
                try postgreSQL(settings), migrations: migrations, now: now, logger: logger)
        }
    }

    /// Creates the database when absent (SQLite) and applies pending migrations;
    /// returns the names of the files it applied.
    public static func migrate(
        _ settings: DatabaseSettings, migrations: [Migration]? = nil, now: EpochMilliseconds, logger: Logger
    ) async throws -> [String] {
        let migrations = migrations ?? embeddedMigrations(for: settings.type)
        switch settings.type {
        case .sqlite:
            return try SQLiteDatabase.migrate(path: settings.path, migrations: migrations, now: now)
        case .postgresql:
            return try await PostgresDatabase.migrate(
                try postgreSQL(settings), migrations: migrations, now: now, logger: logger)
        }
    }

    /// Copies every client, user, signing key and token row of the SQLite database
    /// `source` names into the empty PostgreSQL database `target`, in one transaction
    /// (README, "Scaling out"). The SQLite database is migrated first, so its columns
    /// are the ones the PostgreSQL schema has.
    /// - Returns: the rows copied per table.
    public static func copy(
        from source: DatabaseSettings, to target: PostgreSQLSettings, now: EpochMilliseconds, logger: Logger
    ) async throws -> [(table: String, rows: Int)] {
        guard source.type == .sqlite else {
            throw CopyRefused("db copy reads a SQLite database: the configuration names a PostgreSQL one")
        }
        _ = try SQLiteDatabase.migrate(path: source.path, now: now)
        let tables = try SQLiteDatabase.export(path: source.path)
        return try await PostgresDatabase.importRows(tables, into: target, now: now, logger: logger)
    }

    /// Creates the counters of every store now, so that `/metrics` shows them at 0 from the start.
    public static func registerMetrics() {
        SQLiteDatabase.registerMetrics()
    }

    private static func postgreSQL(_ settings: DatabaseSettings) throws -> PostgreSQLSettings {
        guard let postgresql = settings.postgresql else { throw MissingURL() }
        return postgresql
    }

    struct MissingURL: Error, CustomStringConvertible {
        var description: String { #"[database] type = "postgresql" needs url = "postgresql://USER@HOST:PORT/DBNAME""# }
    }
}
