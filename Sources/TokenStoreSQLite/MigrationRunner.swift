import CSQLiteSettings
import GRDB
import TokenAuthority

/// Applies pending migrations in order and refuses a database whose applied
/// migrations no longer match their files (docs/storage.md, "Migrations").
///
/// Everything happens in one IMMEDIATE transaction, so two processes starting
/// on one database file at once apply each migration exactly once.
struct MigrationRunner: Sendable {
    let migrations: [Migration]

    init(migrations: [Migration] = Migration.embedded) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// - Returns: the file names applied now (empty when the schema was current).
    @discardableResult
    func migrate(_ writer: some DatabaseWriter, now: Int64) throws -> [String] {
        var seen = Set<Int>()
        for migration in migrations where !seen.insert(migration.version).inserted {
            throw MigrationError.duplicateVersion(migration.version)
        }
        return try writer.writeWithoutTransaction { db in
            // A migration may edit `sqlite_schema` the way SQLite documents for changing a CHECK
            // constraint (0011), which SQLite refuses on a connection in defensive mode, as macOS's
            // SQLite opens every one. Migrations are trusted SQL (the binary's own, or the folder an
            // operator names with --migrations): defensive mode is off while they run, and set back
            // as it was after.
            let defensive = token_authority_sqlite_defensive(db.sqliteConnection, 0)
            defer { if defensive == 1 { _ = token_authority_sqlite_defensive(db.sqliteConnection, 1) } }
            var applied: [String] = []
            try db.inTransaction(.immediate) {
                let recorded = try recordedMigrations(db)
                for (version, row) in recorded {
                    guard let migration = migrations.first(where: { $0.version == version }) else {
                        throw MigrationError.unknownApplied(version: version, name: row.name)
                    }
                    guard migration.checksum == row.checksum else {
                        throw MigrationError.changedAfterApplied(
                            fileName: migration.fileName, recorded: row.checksum, found: migration.checksum)
                    }
                }
                for migration in migrations where recorded[migration.version] == nil {
                    try db.execute(sql: migration.sql)
                    try db.execute(
                        sql: "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
                        arguments: [migration.version, migration.fileName, migration.checksum, now])
                    applied.append(migration.fileName)
                }
                return .commit
            }
            return applied
        }
    }

    private func recordedMigrations(_ db: Database) throws -> [Int: (name: String, checksum: String)] {
        guard try db.tableExists("schema_migrations") else { return [:] }
        var result: [Int: (name: String, checksum: String)] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT version, name, checksum FROM schema_migrations") {
            result[row["version"]] = (row["name"], row["checksum"])
        }
        return result
    }
}
