import GRDB
import Synchronization

/// Runs concurrent write requests in shared transactions ("group commit").
///
/// Each renewal or refresh writes a handful of pages (table, token-hash index, key
/// indexes) and every transaction pays BEGIN IMMEDIATE, a WAL append and its
/// share of checkpoints, all behind the one writer. Requests that queue up
/// while a transaction runs go into the next one together, and a request that
/// finds the writer idle lets the tasks already ready to run go first, so that
/// those about to write join its batch: hot pages are written once per batch
/// instead of once per request.
///
/// Semantics are unchanged. Requests still run one after the other on the
/// writer connection, each seeing the ones before it, inside one IMMEDIATE
/// transaction (so across processes too). One that throws is rolled back alone:
/// the batch first runs without savepoints, which cost two statements a request;
/// should a request throw, the whole transaction is rolled back and the batch runs
/// again with each request in a savepoint of its own. A request is a function of
/// the database alone (what it decides is kept anew on each run), so running it
/// twice is safe. A caller resumes only after the commit that holds its work, and
/// if that commit fails, every caller in the batch gets the error.
final class GroupCommit: Sendable {
    /// Bounds a transaction's length, and so the time a request waits behind it.
    static let maximumBatch = 64

    private struct Job: Sendable {
        /// Runs the work in the shared transaction and keeps its result. With `isolated`,
        /// in a savepoint of its own, keeping an error too; without, returns false
        /// instead when it throws, and the batch must run again isolated.
        let run: @Sendable (Database, _ isolated: Bool) -> Bool
        /// Resumes the caller once the transaction ended: with the kept result, or
        /// with the commit's error.
        let resume: @Sendable ((any Error)?) -> Void
    }

    private struct Queue {
        var pending: [Job] = []
        var draining = false
    }

    private let writer: DatabasePool
    private let queue = Mutex(Queue())

    init(writer: DatabasePool) {
        self.writer = writer
    }

    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let outcome = Outcome<T>()
            let job = Job(
                run: { db, isolated in
                    guard isolated else {
                        guard let value = try? work(db) else { return false }
                        outcome.keep(.success(value))
                        return true
                    }
                    outcome.keep(
                        Result {
                            var value: T?
                            try db.inSavepoint {
                                value = try work(db)
                                return .commit
                            }
                            guard let value else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "no result") }
                            return value
                        })
                    return true
                },
                resume: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.kept ?? .failure(CancellationError()))
                    }
                })
            let startsBatch = queue.withLock { queue in
                queue.pending.append(job)
                defer { queue.draining = true }
                return !queue.draining
            }
            if startsBatch { scheduleBatchAfterReadyWork() }
        }
    }

    /// Starts a batch for a request that found the writer idle, once the tasks already
    /// waiting for Swift's executor have had their turn: a request among them that is
    /// about to write (checking its grant, minting its token) joins this batch instead of
    /// finding the writer busy and waiting for the next commit. Nothing sleeps or spins;
    /// a `Task` is queued behind the work that was ready. Without it, at 16 connections a
    /// renewal's batch held 1.6 requests and a JWT issuance's 1.05, each commit paying
    /// `BEGIN`, the WAL's frames and the wake-up of the writer's thread for about one
    /// request (docs/performance.md, "What keeps it fast").
    private func scheduleBatchAfterReadyWork() {
        Task { self.scheduleBatch() }
    }

    /// Queues a batch on the writer's queue. It runs there, with no task between the
    /// requests and the transaction; the batch after it is queued behind any other
    /// write that arrived meanwhile (cleanup, a revocation), so none waits for long.
    private func scheduleBatch() {
        writer.asyncWriteWithoutTransaction { db in self.runBatch(db) }
    }

    private func runBatch(_ db: Database) {
        let batch = queue.withLock { queue in
            let batch = Array(queue.pending.prefix(Self.maximumBatch))
            queue.pending.removeFirst(batch.count)
            return batch
        }
        var commitError: (any Error)?
        do {
            try Self.commit(batch, db, isolated: false)
        } catch is RunIsolated {
            do {
                try Self.commit(batch, db, isolated: true)
            } catch {
                commitError = error
            }
        } catch {
            commitError = error
        }
        for job in batch { job.resume(commitError) }
        let more = queue.withLock { queue in
            if queue.pending.isEmpty { queue.draining = false }
            return queue.draining
        }
        if more { scheduleBatch() }
    }
}

extension GroupCommit {
    /// A request of the batch threw while it ran without a savepoint.
    private struct RunIsolated: Error {}

    /// Runs the batch in one IMMEDIATE transaction and commits it. Not `isolated`, the
    /// first request that throws rolls the whole transaction back with `RunIsolated`.
    ///
    /// The transaction GRDB's `inTransaction` would run, with the connection's cached `BEGIN`
    /// and `COMMIT`: GRDB prepares both anew for every transaction, a few microseconds of each
    /// batch (docs/performance.md, "Where the write paths' time goes").
    private static func commit(_ batch: [Job], _ db: Database, isolated: Bool) throws {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        do {
            for job in batch {
                // SQLite ends a transaction by itself on some errors (a full disk, an I/O
                // error): the requests after one must not run outside it, each on its own.
                guard db.isInsideTransaction else { throw DatabaseError(resultCode: .SQLITE_ABORT) }
                if !job.run(db, isolated) { throw RunIsolated() }
            }
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
        } catch {
            // A COMMIT refused (a deferred foreign key) leaves the transaction open.
            if db.isInsideTransaction { try? db.rollback() }
            throw error
        }
    }
}

/// One request's result, set inside the transaction and read after it.
private final class Outcome<T: Sendable>: Sendable {
    private let result = Mutex<Result<T, any Error>?>(nil)

    func keep(_ value: Result<T, any Error>) {
        result.withLock { $0 = value }
    }

    var kept: Result<T, any Error>? {
        result.withLock { $0 }
    }
}
