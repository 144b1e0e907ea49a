import Logging
import PostgresNIO
import TokenAuthority

/// Applies pending migrations in order and refuses a database whose applied
/// migrations no longer match their files (docs/storage.md, "Migrations"), with the
/// SQLite runner's `MigrationError` cases.
///
/// The whole run holds a session advisory lock, so instances starting at once on
/// one database wait for each other and apply each migration exactly once; each
/// file runs in a transaction of its own, with its row in `schema_migrations`.
struct PostgresMigrationRunner: Sendable {
    let migrations: [Migration]

    /// The dollar-quote tag around a migration's text. PostgresNIO speaks the
    /// extended query protocol, one statement per message, so a file of several
    /// statements runs as one PL/pgSQL block; a file must not contain this tag.
    static let blockTag = "$token_authority_migration$"

    init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// - Returns: the file names applied now (empty when the schema was current).
    @discardableResult
    func migrate(_ connection: PostgresConnection, now: Int64, logger: Logger) async throws -> [String] {
        var seen = Set<Int>()
        for migration in migrations where !seen.insert(migration.version).inserted {
            throw MigrationError.duplicateVersion(migration.version)
        }
        try await connection.rows("SELECT pg_advisory_lock(\(AdvisoryLock.migrations))", logger: logger)
        do {
            let applied = try await migrateLocked(connection, now: now, logger: logger)
            try await connection.rows("SELECT pg_advisory_unlock(\(AdvisoryLock.migrations))", logger: logger)
            return applied
        } catch {
            // A lost connection releases the lock by itself.
            _ = try? await connection.rows("SELECT pg_advisory_unlock(\(AdvisoryLock.migrations))", logger: logger)
            throw error
        }
    }

    private func migrateLocked(_ connection: PostgresConnection, now: Int64, logger: Logger) async throws -> [String] {
        let recorded = try await recordedMigrations(connection, logger: logger)
        for (version, row) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let migration = migrations.first(where: { $0.version == version }) else {
                throw MigrationError.unknownApplied(version: version, name: row.name)
            }
            guard migration.checksum == row.checksum else {
                throw MigrationError.changedAfterApplied(
                    fileName: migration.fileName, recorded: row.checksum, found: migration.checksum)
            }
        }
        var applied: [String] = []
        for migration in migrations where recorded[migration.version] == nil {
            try await connection.rows("BEGIN", logger: logger)
            do {
                let block = "DO \(Self.blockTag)BEGIN\n\(migration.sql)\nEND\(Self.blockTag)"
                try await connection.rows(PostgresQuery(unsafeSQL: block), logger: logger)
                try await connection.rows(
                    """
                    INSERT INTO schema_migrations (version, name, checksum, applied_at)
                    VALUES (\(migration.version), \(migration.fileName), \(migration.checksum), \(now))
                    """, logger: logger)
                try await connection.rows("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.rows("ROLLBACK", logger: logger)
                throw error
            }
            applied.append(migration.fileName)
        }
        return applied
    }

    private func recordedMigrations(_ connection: PostgresConnection, logger: Logger) async throws
        -> [Int: (name: String, checksum: String)]
    {
        let exists = try await connection.rows(
            "SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger
        ).first?.decode(Bool.self) ?? false
        guard exists else { return [:] }
        var result: [Int: (name: String, checksum: String)] = [:]
        for row in try await connection.rows("SELECT version, name, checksum FROM schema_migrations", logger: logger) {
            let (version, name, checksum) = try row.decode((Int, String, String).self)
            result[version] = (name, checksum)
        }
        return result
    }
}
