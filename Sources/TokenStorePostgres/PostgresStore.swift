import Logging
import PostgresNIO
import Synchronization
import TokenAuthority

/// The PostgreSQL implementation of the store protocols, for several instances
/// sharing one database (docs/storage.md). As with SQLite, the invariants live in
/// the schema (`migrations/postgresql/`): the unique partial index allows one
/// ACTIVE token per key, and every multi-row change runs in one transaction.
///
/// PostgreSQL runs transactions concurrently where SQLite serialises them, so two
/// issuances for one key may both try to insert the ACTIVE row: the index refuses
/// the second, which is retried (`transaction(retryingUniqueViolations:_:)`), and
/// a transaction-scoped advisory lock per key (`lockKey`) queues them up front so
/// that retries stay rare.
struct PostgresStore: TokenDatabase {
    let client: PostgresClient
    /// Runs the client's pool; cancelled by `close()`.
    let runTask: Task<Void, Never>
    /// Handed to PostgresNIO: never below `info`, since its trace level logs the
    /// messages exchanged with the server (rows, hashes, the authentication).
    let logger: Logger
    /// Where the database is, for the connection that listens for client changes
    /// (`followClientChanges`).
    let settings: PostgreSQLSettings
    /// `settings.redactedURL`, for errors and the log.
    let url: String
    /// How long a request waits for a connection before answering 503: the pool
    /// itself would wait up to a minute for a server that is down.
    let leaseTimeout: Duration

    /// Attempts of a transaction that meets a concurrent one (unique violation,
    /// serialization failure, deadlock) before its error reaches the caller.
    static let maximumAttempts = 10

    init(
        client: PostgresClient, runTask: Task<Void, Never>, settings: PostgreSQLSettings, logger: Logger,
        leaseTimeout: Duration
    ) {
        self.client = client
        self.runTask = runTask
        var logger = logger
        logger.logLevel = max(logger.logLevel, .info)
        self.logger = logger
        self.settings = settings
        self.url = settings.redactedURL
        self.leaseTimeout = leaseTimeout
    }

    func maintain() async {
        // PostgreSQL does its own upkeep (autovacuum, checkpoints): nothing to run here.
    }

    func close() async throws {
        runTask.cancel()
        await runTask.value
    }

    func ping() async throws {
        _ = try await rows("SELECT 1")
    }

    // MARK: Connections

    /// Runs `body` on a connection of the pool, waiting at most `leaseTimeout` for
    /// one. Errors meaning "the database cannot answer" become `StoreUnavailable`.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws
        -> T
    {
        do {
            return try await leased(body)
        } catch {
            throw PostgresFailure.mapped(error, url: url)
        }
    }

    /// Whether the lease or the deadline came first: whichever does decides.
    private final class LeaseGate: Sendable {
        enum State { case waiting, leased, timedOut }
        private let state = Mutex(State.waiting)

        /// Moves from `waiting` to `next`; false when the other side came first.
        func claim(_ next: State) -> Bool {
            state.withLock { state in
                guard state == .waiting else { return false }
                state = next
                return true
            }
        }

        var wasLeased: Bool { state.withLock { $0 == .leased } }
    }

    private func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T
    {
        let gate = LeaseGate()
        let client = client
        let timeout = leaseTimeout
        let url = url
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                do {
                    return try await client.withConnection { connection in
                        // The deadline passed just as the connection came: give it back unused.
                        guard gate.claim(.leased) else { throw CancellationError() }
                        return try await body(connection)
                    }
                } catch where !gate.wasLeased && !Task.isCancelled {
                    // The pool failed the request itself (shut down, or its circuit
                    // breaker tripped after failing to connect for a while).
                    throw StoreUnavailable("no connection to PostgreSQL at \(url): \(PostgresFailure.reason(error))")
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                if gate.claim(.timedOut) {
                    throw StoreUnavailable("no connection to PostgreSQL at \(url) within \(timeout)")
                }
                return nil
            }
            while let result = try await group.next() {
                if let value = result {
                    group.cancelAll()
                    return value
                }
            }
            // Unreachable: the lease task either returns a value or throws.
            throw CancellationError()
        }
    }

    /// One statement on a connection of its own (a single statement is its own
    /// transaction): every row, decoded by the caller.
    @discardableResult
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = logger
        return try await withConnection { connection in try await connection.rows(query, logger: logger) }
    }

    // MARK: Transactions

    /// Runs `body` in one transaction, committed with `synchronous_commit = on` unless
    /// a statement of `body` turns it off, as issuance's does (docs/storage.md,
    /// "PostgreSQL"). A unique violation (when `retryingUniqueViolations`: a concurrent
    /// issuance took the ACTIVE slot first), a serialization failure or a deadlock rolls
    /// it back and runs it again, after a short random pause, up to `maximumAttempts`
    /// times; `body` reads the database afresh each time, so it decides on what the
    /// winner committed. A body that only writes returns its statement's rows, unread.
    @discardableResult
    func transaction<T: Sendable>(
        retryingUniqueViolations: Bool = false,
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let logger = logger
        return try await retrying(uniqueViolations: retryingUniqueViolations) {
            try await withConnection { connection in
                try await connection.rows("BEGIN", logger: logger)
                do {
                    let value = try await body(connection, logger)
                    try await connection.rows("COMMIT", logger: logger)
                    return value
                } catch {
                    // Best effort: on a lost connection the server rolls back by itself.
                    _ = try? await connection.rows("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Runs `work` (a transaction, or one statement outside any) again when it meets a
    /// concurrent one, as `transaction` describes.
    func retrying<T: Sendable>(uniqueViolations: Bool, _ work: () async throws -> T) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await work()
            } catch let error
                where attempt < Self.maximumAttempts
                && PostgresFailure.isConflict(error, includingUniqueViolations: uniqueViolations)
            {
                attempt += 1
                try await Task.sleep(for: .microseconds(Int.random(in: 100...(500 * attempt))))
            }
        }
    }
}

extension PostgresConnection {
    /// Runs one statement and reads every row, so that an error the server sends
    /// after the first row (or after none) is thrown here, not lost.
    @discardableResult
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await self.query(query, logger: logger).collect()
    }

    /// Queues the writers of one key (client, subject, scope set) behind each other
    /// until the end of the transaction: each then reads what the one before it
    /// committed, as under SQLite's single writer. The unique index still enforces
    /// the invariant; this only keeps concurrent issuances from colliding on it.
    /// The function `lock_token_key` (migrations/postgresql) names the lock, for this
    /// and for the functions that take it themselves: the two-integer form of the
    /// advisory locks, whose key space does not overlap the single-bigint one of
    /// `AdvisoryLock` (PostgreSQL, "Advisory Locks").
    func lockKey(_ key: TokenKey, logger: Logger) async throws {
        try await rows(
            """
            SELECT lock_token_key(\(AdvisoryLock.tokenKeyClass), \(key.clientID), \(key.subject.kind),
                \(key.subject.name), \(key.scope.description))
            """, logger: logger)
    }
}

/// Session-level advisory lock keys (single bigint), one per task that a single
/// instance at a time may run over a shared database.
enum AdvisoryLock {
    /// "TAMIGRAT": applying migrations.
    static let migrations: Int64 = 0x5441_4D49_4752_4154
    /// "TAPURGE_": purging token rows.
    static let purge: Int64 = 0x5441_5055_5247_455F
    /// The class of the per-key transaction locks (two-integer form): "TAKY".
    static let tokenKeyClass: Int32 = 0x5441_4B59
}

/// The store found the database in a state its own writes never leave: a bug or a
/// hand-edited row, never a client's mistake.
struct PostgresStoreInconsistency: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
