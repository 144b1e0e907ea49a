import GRDB
import TokenAuthority

/// Opens the SQLite store: the embedded default, one file on one host
/// (docs/storage.md). The store itself stays inside this module; callers see
/// `TokenDatabase`.
public enum SQLiteDatabase {
    /// The files of `migrations/`, compiled into the binary.
    public static var embeddedMigrations: [Migration] { Migration.embedded }

    /// Opens the database at `path`, creating it (folder 0700, file 0600) when
    /// absent, and applies pending migrations.
    public static func open(path: String, migrations: [Migration] = embeddedMigrations, now: Int64) throws
        -> any TokenDatabase
    {
        try SQLiteStore.open(path: path, migrations: migrations, now: now)
    }

    /// Creates the database when absent and applies pending migrations; returns
    /// the names of the files it applied.
    public static func migrate(path: String, migrations: [Migration] = embeddedMigrations, now: Int64) throws
        -> [String]
    {
        let pool = try AppDatabase.open(path: path)
        defer { try? pool.close() }
        return try MigrationRunner(migrations: migrations).migrate(pool, now: now)
    }

    /// Creates the store's counters now, so that `/metrics` shows them at 0 from the start.
    public static func registerMetrics() {
        SQLiteStore.registerMetrics()
    }
}
