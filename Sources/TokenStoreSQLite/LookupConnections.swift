import GRDB
import Synchronization

/// The read-only connections that `SQLiteStore.lookup` runs its single statements on,
/// handed out from a list under a `Mutex`.
///
/// GRDB's `DatabasePool` guards its readers with a lock built on a concurrent dispatch
/// queue: taking a reader and giving it back passes it twice as a barrier and once to
/// read, besides a semaphore and a dispatch group, and when two threads meet at a
/// barrier, one of them sleeps until the other is done. Every token request reads once,
/// so under load that was a context switch for about every request, and the hand-over
/// cost more than the read (docs/performance.md, "GRDB's reader hand-over"). Here a
/// connection is taken and given back under a lock held for a few instructions.
///
/// These connections see what the pool's readers see: each statement is its own read
/// transaction on the WAL, never waiting for the writer. When every one of them is in
/// use, a lookup falls back to the pool's readers, so the number of connections stays
/// bounded whatever calls come.
final class LookupConnections: Sendable {
    private struct State {
        var idle: [DatabaseQueue] = []
        var opened = 0
        var closed = false
    }

    private let path: String
    private let configuration: Configuration
    private let limit: Int
    private let state = Mutex(State())

    /// Connections to the database at `path` with the pool's own settings, read-only,
    /// at most `limit` of them. A WAL read meets SQLITE_BUSY only while another process
    /// recovers or closes the WAL; the pool's busy handler waits that out.
    init(path: String, configuration: Configuration, limit: Int) {
        var configuration = configuration
        configuration.readonly = true
        self.path = path
        self.configuration = configuration
        self.limit = limit
    }

    /// Runs `statement` on an idle connection, on the calling thread; `nil` when all
    /// `limit` connections are in use or they are closed, for the caller to read another way.
    func read<T>(_ statement: (Database) throws -> T) throws -> T? {
        guard let connection = try take() else { return nil }
        defer { giveBack(connection) }
        return try connection.inDatabase(statement)
    }

    /// How many connections are open, idle or in use.
    var opened: Int { state.withLock { $0.opened } }

    /// Closes the idle connections now and the others as they are given back.
    func close() throws {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for connection in idle { try connection.close() }
    }

    private enum Taken {
        case connection(DatabaseQueue)
        case openOne
        case none
    }

    private func take() throws -> DatabaseQueue? {
        let taken: Taken = state.withLock { state in
            if state.closed { return .none }
            if let connection = state.idle.popLast() { return .connection(connection) }
            guard state.opened < limit else { return .none }
            state.opened += 1
            return .openOne
        }
        switch taken {
        case .connection(let connection):
            return connection
        case .none:
            return nil
        case .openOne:
            do {
                return try DatabaseQueue(path: path, configuration: configuration)
            } catch {
                state.withLock { $0.opened -= 1 }
                throw error
            }
        }
    }

    private func giveBack(_ connection: DatabaseQueue) {
        let closed = state.withLock { state in
            if !state.closed { state.idle.append(connection) }
            return state.closed
        }
        if closed { try? connection.close() }
    }
}
