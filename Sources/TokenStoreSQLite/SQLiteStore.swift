import GRDB
import TokenAuthority

/// The SQLite implementation of the store protocols. The invariants live in the
/// schema (`migrations/`): the unique partial index allows one ACTIVE token per
/// key, and every multi-row change runs in one IMMEDIATE transaction, which
/// serialises writers across threads and across processes sharing the file.
public struct SQLiteStore: Sendable {
    public let writer: DatabasePool
    /// Token issuance writes, batched into shared transactions.
    let issuance: GroupCommit

    public init(writer: DatabasePool) {
        self.writer = writer
        issuance = GroupCommit(writer: writer)
    }

    /// Opens the database at `path` and applies pending migrations.
    public static func open(path: String, migrations: [Migration] = Migration.embedded, now: Int64) throws -> SQLiteStore {
        let pool = try AppDatabase.open(path: path)
        try MigrationRunner(migrations: migrations).migrate(pool, now: now)
        return SQLiteStore(writer: pool)
    }

    /// Runs one SELECT on a reader connection. A single statement is its own
    /// implicit read transaction in SQLite, so this skips the BEGIN/COMMIT pair
    /// that `read` wraps around its closure: on the token endpoint's hot path
    /// (client lookup, ACTIVE-token lookup) that is a third of the statements.
    /// Only for closures that run exactly one statement.
    func lookup<T: Sendable>(_ statement: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.unsafeRead(statement)
    }

    /// Runs `updates` in a transaction that is fully synced to disk before it returns
    /// (docs/storage.md, "Durability": an acknowledged revocation survives a power cut), while
    /// ordinary writes keep `synchronous = NORMAL`.
    func durableWrite<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var result: T?
            try db.inTransaction(.immediate) {
                result = try updates(db)
                return .commit
            }
            return result!
        }
    }
}

extension SQLiteStore {
    /// Creates the store's counters now, so that `/metrics` shows them at 0 from the start.
    public static func registerMetrics() {
        _ = BusyRetry.retries
    }

    /// Closes every connection of the pool (graceful shutdown).
    public func close() throws {
        try writer.close()
    }

    public func ping() async throws {
        _ = try await lookup { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT 1")) }
    }
}

extension DatabaseError {
    /// A UNIQUE or PRIMARY KEY constraint failed.
    var isUniqueViolation: Bool {
        extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
    }
}
