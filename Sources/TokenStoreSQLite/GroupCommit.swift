import GRDB
import Synchronization

/// Runs concurrent write requests in shared transactions ("group commit").
///
/// Each renewal writes a handful of pages (table, token-hash index, key
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
                            return value!
                        })
                },
                resume: { commitError in
                    if let commitError {
                        continuation.resume(throwing: commitError)
                    } else {
                        continuation.resume(with: outcome.kept ?? .failure(CancellationError()))
                    }
                })
            let startsDrain = queue.withLock { queue in
                queue.pending.append(job)
                defer { queue.draining = true }
                return !queue.draining
            }
            if startsDrain { Task { await drain() } }
        }
    }

    /// Runs batches until no request is waiting.
    private func drain() async {
        while true {
            let batch = queue.withLock { queue in
                let batch = Array(queue.pending.prefix(Self.maximumBatch))
                queue.pending.removeFirst(batch.count)
                if batch.isEmpty { queue.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            var commitError: (any Error)?
            do {
                try await writer.write { db in
                    for job in batch { job.run(db) }
                }
            } catch {
                commitError = error
            }
            for job in batch { job.resume(commitError) }
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
