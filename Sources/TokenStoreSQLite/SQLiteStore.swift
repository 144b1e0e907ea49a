import CoreMetrics
import GRDB
import TokenAuthority

/// The SQLite implementation of the store protocols. The invariants live in the
/// schema (`migrations/`): the unique partial index allows one ACTIVE token per
/// key, and every multi-row change runs in one IMMEDIATE transaction, which
/// serialises writers across threads and across processes sharing the file.
struct SQLiteStore: TokenDatabase {
    let writer: DatabasePool
    /// The token endpoint's writes (issuance, refresh), batched into shared transactions.
    let groupCommit: GroupCommit
    /// Copies the WAL back into the file between requests; `nil` for a store
    /// opened without one (the tests that drive the pool directly).
    let checkpointer: WALCheckpointer?
    /// The read-only connections of `lookup`.
    let lookups: LookupConnections
    /// The ACTIVE token of a key, and a token found by its lookup key, answered from memory
    /// while nobody commits (docs/storage.md, "Reads answered from memory").
    let activeTokens: UnchangedDatabaseCache<TokenKey, StoredToken?>
    let foundTokens: UnchangedDatabaseCache<TokenDigestKey, FoundToken?>

    /// - Parameter metrics: where the caches count their lookups; swift-metrics' backend unless a
    ///   test gives its own.
    init(
        writer: DatabasePool, checkpointer: WALCheckpointer? = nil, metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.writer = writer
        groupCommit = GroupCommit(writer: writer)
        self.checkpointer = checkpointer
        lookups = LookupConnections(
            path: writer.path, configuration: writer.configuration, limit: writer.configuration.maximumReaderCount)
        // SQLite's own mapping of the wal-index, through the writer connection, which the
        // pool keeps open until it closes (after the caches, in `close`).
        let header = try? writer.writeWithoutTransaction { db in try WALIndexHeader.of(db) }
        activeTokens = UnchangedDatabaseCache(
            header: header, capacity: Self.answersKept, counters: LookupCounters(.activeToken, factory: metrics))
        foundTokens = UnchangedDatabaseCache(
            header: header, capacity: Self.answersKept, counters: LookupCounters(.presentedToken, factory: metrics))
    }

    /// The answers each cache keeps at most, a few MB at most in all.
    static let answersKept = 4096

    /// Opens the database at `path` and applies pending migrations.
    static func open(
        path: String, migrations: [Migration] = Migration.embedded, now: Int64,
        metrics: any MetricsFactory = MetricsSystem.factory
    ) throws -> SQLiteStore {
        let pool = try AppDatabase.open(path: path)
        try MigrationRunner(migrations: migrations).migrate(pool, now: now)
        return SQLiteStore(writer: pool, checkpointer: try WALCheckpointer(path: path), metrics: metrics)
    }

    /// Runs one SELECT on a read-only connection, on the calling thread.
    ///
    /// A single statement is its own implicit read transaction in SQLite, so this
    /// skips the BEGIN/COMMIT pair that `read` wraps around its closure. And it does
    /// not leave the thread serving the request: GRDB's asynchronous reads hop to a
    /// dispatch queue and back, two thread wake-ups that cost a token request more
    /// than the read itself (docs/performance.md, "What keeps it fast"). A point
    /// read by an index takes microseconds, and a WAL reader never waits for the
    /// writer, so blocking the caller that long is cheaper than the hops. The
    /// connection comes from `lookups`, or from the pool when all of those are busy.
    /// Only for closures that run exactly one short statement.
    func lookup<T: Sendable>(_ statement: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await Self.mappingUnavailable { try readOnThisThread(statement) }
    }

    /// A connection of `lookups`, else GRDB's synchronous `unsafeRead`, which an `async`
    /// caller would not choose by itself.
    private func readOnThisThread<T>(_ statement: (Database) throws -> T) throws -> T {
        if let value = try lookups.read(statement) { return value }
        return try writer.unsafeRead(statement)
    }

    /// A read transaction on a reader connection, on the calling thread too.
    ///
    /// Never GRDB's asynchronous `read`: that holds its reader connection until the
    /// awaiting task has been resumed on the concurrency pool, while `lookup` makes pool
    /// threads wait for a free reader. Once every pool thread waited for a reader that
    /// only the pool could release, the server stopped for good: 64 concurrent requests
    /// to the public metadata endpoint, which reads every client, did it right after
    /// start. Here a reader is held only while a thread runs the read, so a wait for one
    /// is always short.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await Self.mappingUnavailable { try readTransactionOnThisThread(body) }
    }

    /// GRDB's synchronous `read`: a DEFERRED transaction, one snapshot for all its statements.
    /// A function of its own, not async, so that the call cannot resolve to GRDB's asynchronous
    /// overload.
    private func readTransactionOnThisThread<T>(_ body: (Database) throws -> T) throws -> T {
        try writer.read(body)
    }

    /// An IMMEDIATE write transaction, committed with `synchronous = NORMAL`.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await Self.mappingUnavailable { try await writer.write(updates) }
    }

    /// Runs `updates` in a transaction that is fully synced to disk before it returns
    /// (docs/storage.md, "Durability": an acknowledged revocation survives a power cut), while
    /// ordinary writes keep `synchronous = NORMAL`.
    func durableWrite<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await Self.mappingUnavailable {
            try await writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try updates(db)
                    return .commit
                }
                guard let result else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "no result") }
                return result
            }
        }
    }
}

extension SQLiteStore {
    /// Creates the store's counters now, so that `/metrics` shows them at 0 from the start.
    static func registerMetrics() {
        _ = BusyRetry.retries
        for lookup in LookupCounters.Lookup.allCases { _ = LookupCounters(lookup) }
    }

    /// Checkpoints the WAL until cancelled: every 10 ms while writes come, every 100 ms when idle.
    func maintain() async {
        await checkpointer?.run(busy: .milliseconds(10), idle: .milliseconds(100))
    }

    /// Closes the database after graceful shutdown. The last connection to close
    /// checkpoints the WAL into the database file and removes it, so the file
    /// stands alone for a backup or a copy. That takes a read-write connection: the
    /// lookup connections close first, then the pool (its read-only readers last), so
    /// the checkpointer's closes after them all.
    func close() async throws {
        activeTokens.close()
        foundTokens.close()
        try lookups.close()
        try writer.close()
        try checkpointer?.close()
    }

    func ping() async throws {
        _ = try await lookup { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT 1")) }
    }
}

extension DatabaseError {
    /// A UNIQUE or PRIMARY KEY constraint failed.
    var isUniqueViolation: Bool {
        extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE || extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
    }
}
