import Logging
import TokenAuthority

/// Opens the PostgreSQL store (README, "Scaling out").
public enum PostgresDatabase {
    public static let embeddedMigrations: [Migration] = []

    public static func open(
        _ settings: PostgreSQLSettings, migrations: [Migration] = embeddedMigrations, now: Int64, logger: Logger
    ) async throws -> any TokenDatabase {
        throw StoreUnavailable("the PostgreSQL store is not built yet")
    }

    public static func migrate(
        _ settings: PostgreSQLSettings, migrations: [Migration] = embeddedMigrations, now: Int64, logger: Logger
    ) async throws -> [String] {
        throw StoreUnavailable("the PostgreSQL store is not built yet")
    }
}
