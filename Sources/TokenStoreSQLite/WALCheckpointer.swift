import GRDB

/// Copies WAL pages back into the database file from a connection of its own,
/// between requests.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past
/// 1000 pages, with the write lock held: every queued write waits for its copy
/// and its fsync, which showed as the renewal benchmark's p99. PASSIVE
/// checkpoints from here never wait for readers or writers and leave the
/// automatic one only the last few pages, so it stays short. It remains the
/// backstop that rewinds the WAL, which a PASSIVE checkpoint under a constant
/// stream of writes never reaches the end of. (Turning the automatic one off
/// instead raised throughput but let the WAL grow until a blocking TRUNCATE
/// checkpoint, with a p99 of ~100 ms.)
struct WALCheckpointer: Sendable {
    private let connection: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "token-authority.checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// One PASSIVE checkpoint. Returns the WAL's size in pages.
    @discardableResult
    func checkpoint() async throws -> Int {
        try await connection.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")?[1] ?? 0
        }
    }

    /// Closes the connection (graceful shutdown).
    func close() throws {
        try connection.close()
    }

    /// Checkpoints every `interval` until the task is cancelled. A failure (another
    /// process checkpointing at the same moment, say) waits for the next round.
    func run(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            _ = try? await checkpoint()
        }
    }
}
