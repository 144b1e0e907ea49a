import GRDB
import Synchronization

/// Runs concurrent write requests in shared transactions ("group commit").
///
/// Each renewal or refresh writes a handful of pages (table, token-hash index, key
/// indexes) and every transaction pays BEGIN IMMEDIATE, a WAL append and its
/// share of checkpoints, all behind the one writer. Requests that queue up
/// while a transaction runs go into the next one together: hot pages are
/// written once per batch instead of once per request.
///
/// Semantics are unchanged. Requests still run one after the other on the
/// writer connection, each seeing the ones before it, inside one IMMEDIATE
/// transaction (so across processes too). Each runs in a savepoint of its own,
/// so one that throws is rolled back alone. A caller resumes only after the
/// commit that holds its work, and if that commit fails, every caller in the
/// batch gets the error.
final class GroupCommit: Sendable {
    /// Bounds a transaction's length, and so the time a request waits behind it.
    static let maximumBatch = 64

    private struct Job: Sendable {
        /// Runs the work in a savepoint of the shared transaction and keeps its result.
        let run: @Sendable (Database) -> Void
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
                run: { db in
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
            if startsBatch { scheduleBatch() }
        }
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
            try db.inTransaction(.immediate) {
                for job in batch { job.run(db) }
                return .commit
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
