import Logging
import PostgresNIO
import TokenAuthority

/// Client changes announced by the database: every move of the `client_changes`
/// version is also a `NOTIFY` on the channel `client_changes`
/// (migrations/postgresql/0006_client_changes_notify.sql), delivered to every
/// listening session when its transaction commits, so each instance drops its
/// copies of the clients at once (docs/storage.md, "Clients in memory").
extension PostgresStore {
    static let clientChangesChannel = "client_changes"

    /// How long the listener waits before connecting again after losing its
    /// connection: doubling from the first to the last.
    static let listenerPauses: (first: Duration, last: Duration) = (.milliseconds(250), .seconds(10))

    /// Listens on a connection of its own, outside the pool (which would otherwise
    /// lend that connection to no one else), named `token-authority (client changes)`
    /// in `pg_stat_activity`. `changed` runs once listening has begun (a change
    /// before that went untold), on every notification, and when the connection is
    /// lost; the listener then connects again, pausing longer each time it fails.
    func followClientChanges(_ changed: @escaping @Sendable () -> Void) async {
        let startup = Self.startupParameters.map { name, value in
            (name, name == "application_name" ? "token-authority (client changes)" : value)
        }
        var pause = Self.listenerPauses.first
        var reportedFailure = false
        while !Task.isCancelled {
            do {
                let (connection, _) = try await Self.connect(settings, logger: logger, startupParameters: startup)
                do {
                    try await connection.listen(on: Self.clientChangesChannel) { notifications in
                        changed()
                        pause = Self.listenerPauses.first
                        if reportedFailure {
                            logger.notice("listening for client changes again", metadata: ["database": "\(url)"])
                            reportedFailure = false
                        }
                        for try await _ in notifications { changed() }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch where !Task.isCancelled {
                if !reportedFailure {
                    // The clients' version still bounds how long a copy is served.
                    logger.warning(
                        "not listening for client changes: one made by another instance takes effect once the client version is next read",
                        metadata: ["database": "\(url)", "reason": "\(PostgresFailure.reason(error))"])
                    reportedFailure = true
                }
            } catch {}
            changed()
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, Self.listenerPauses.last)
        }
    }
}
