import GRDB

/// Copies WAL pages back into the database file from a connection of its own,
/// between requests.
///
/// SQLite's automatic checkpoint runs at the end of the COMMIT that takes the WAL
/// past 1000 pages, on the writer's connection: every queued write waits for its
/// copy and its fsyncs, which showed as the renewal benchmark's p99. PASSIVE
/// checkpoints from here never wait for readers or writers and leave the
/// automatic one only the last few pages, so it stays short. Under a stream of
/// writes they come every 10 ms: at 100 ms the WAL filled in about as long, and
/// the automatic checkpoint found much of it still to copy and sync
/// (docs/performance.md, "What keeps it fast").
///
/// The automatic checkpoint remains the backstop that rewinds the WAL, which a
/// PASSIVE checkpoint under a constant stream of writes never reaches the end of.
/// (Turning it off instead raised throughput but let the WAL grow until a blocking
/// TRUNCATE checkpoint, with a p99 of ~100 ms.)
struct WALCheckpointer: Sendable {
    private let connection: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "token-authority.checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Where the WAL stood after a checkpoint: `PRAGMA wal_checkpoint`'s second and third columns.
    struct Progress: Equatable {
        /// Frames in the WAL.
        var frames: Int
        /// Frames of those copied into the database file.
        var copied: Int
    }

    /// One PASSIVE checkpoint, and where it left the WAL.
    func checkpoint() async throws -> Progress {
        try await connection.writeWithoutTransaction { db in
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            return Progress(frames: row?[1] ?? 0, copied: row?[2] ?? 0)
        }
    }

    /// Closes the connection (graceful shutdown).
    func close() throws {
        try connection.close()
    }

    /// Checkpoints until the task is cancelled: every `busy` interval while transactions
    /// keep adding to the WAL, every `idle` interval once a round finds it as the last
    /// one left it. A failure (another process checkpointing at the same moment, say)
    /// waits an idle interval.
    ///
    /// Cancellation ends the loop between checkpoints, never inside one: each runs in a task
    /// of its own, which the loop's cancellation does not reach. GRDB answers a cancelled
    /// access with `sqlite3_interrupt`, and SQLite clears that flag only when the connection
    /// starts its next statement. Graceful shutdown cancels this loop and then closes the
    /// connection, whose closing checkpoint (the one that removes the WAL, as
    /// `SQLiteStore.close` says) stopped at its first page on the stale flag and left the
    /// WAL behind.
    func run(busy: Duration, idle: Duration) async {
        var last: Progress?
        while !Task.isCancelled {
            let progress = try? await Task { try await checkpoint() }.value
            try? await Task.sleep(for: Self.pause(after: progress, previous: last, busy: busy, idle: idle))
            last = progress
        }
    }

    static func pause(after progress: Progress?, previous: Progress?, busy: Duration, idle: Duration) -> Duration {
        guard let progress, progress != previous else { return idle }
        return busy
    }
}
