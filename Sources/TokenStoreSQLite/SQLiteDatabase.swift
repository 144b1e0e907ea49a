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

extension SQLiteDatabase {
    /// Reads every row of the tables a copy moves, in one read transaction, so the
    /// copy is one consistent moment of the database even while a server writes.
    public static func export(path: String) throws -> [CopiedTable] {
        let pool = try AppDatabase.open(path: path)
        defer { try? pool.close() }
        return try pool.read { db in
            try CopiedTable.copiedTables.map { table in
                let columns = try db.columns(in: table).map(\.name)
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map { row in
                    try columns.map { column in try copied(row[column] as DatabaseValue, table: table, column: column) }
                }
                return CopiedTable(name: table, columns: columns, rows: rows)
            }
        }
    }

    /// The schema has no REAL column: a floating-point value is a row written behind
    /// the server's back, and the copy stops rather than guess.
    private static func copied(_ value: DatabaseValue, table: String, column: String) throws -> CopiedValue {
        switch value.storage {
        case .null: return .null
        case .int64(let integer): return .integer(integer)
        case .string(let text): return .text(text)
        case .blob(let data): return .bytes([UInt8](data))
        case .double:
            throw DatabaseError(message: "\(table).\(column) holds a floating-point value, which the schema never writes")
        }
    }
}
