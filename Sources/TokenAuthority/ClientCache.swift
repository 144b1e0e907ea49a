import Synchronization

/// Clients kept in memory, so that a token request reads the database once at most
/// (docs/storage.md, "Clients in memory").
///
/// A copy is served only while the database's `clientsVersion()` is the one the
/// cache last read, and the cache reads it again before serving once
/// `recheckInterval` has passed. Every change to a client moves that version in the
/// same transaction, whichever process made it (`client delete` on the command
/// line, another instance on the same database): a deleted client or a replaced
/// secret stops working within `recheckInterval`, plus the length of a request
/// already under way. Changes made through the cache itself take effect at once,
/// and so do those a store announces (`followClientChanges`: PostgreSQL's
/// `NOTIFY`), while `run` follows them; the version still bounds the rest.
///
/// The cache guards nothing alone: a token for a deleted client fails its
/// foreign key, and a client's tokens go with it (`ON DELETE CASCADE`). Unknown
/// ids are not cached, so a caller cannot fill memory with them; ids are keyed by
/// their bytes, as the database compares them.
public final class ClientCache: ClientStore {
    /// How long a copy is served before the version is read again.
    public static let defaultRecheckInterval: Duration = .milliseconds(250)
    /// Past this many clients the cache starts afresh.
    static let capacity = 10_000

    private struct State {
        var clients: [[UInt8]: Client] = [:]
        /// The version the copies belong to; `nil` until read.
        var version: Int64?
        var checkedAt: ContinuousClock.Instant?
        /// Moves whenever the copies are dropped: a lookup that began before does not
        /// put an old copy back.
        var generation = 0

        mutating func drop() {
            clients.removeAll()
            version = nil
            checkedAt = nil
            generation += 1
        }
    }

    private let store: any ClientStore
    private let recheckInterval: Duration
    private let state = Mutex(State())

    public init(store: any ClientStore, recheckInterval: Duration = ClientCache.defaultRecheckInterval) {
        self.store = store
        self.recheckInterval = recheckInterval
    }

    public func client(id: String) async throws -> Client? {
        let generation = try await checkVersion()
        let key = Array(id.utf8)
        if let cached = state.withLock({ $0.clients[key] }) { return cached }
        guard let client = try await store.client(id: id) else { return nil }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.clients.count >= Self.capacity { state.clients.removeAll() }
            state.clients[key] = client
        }
        return client
    }

    /// Reads the version when `recheckInterval` has passed since the last read and
    /// drops the copies when it moved (or could not be read). Returns the
    /// generation of the copies that may be served.
    private func checkVersion() async throws -> Int {
        let started = ContinuousClock.now
        let fresh: Int? = state.withLock { state in
            guard let checkedAt = state.checkedAt, started - checkedAt < recheckInterval else { return nil }
            return state.generation
        }
        if let fresh { return fresh }
        let version: Int64
        do {
            version = try await store.clientsVersion()
        } catch {
            state.withLock { $0.drop() }
            throw error
        }
        return state.withLock { state in
            if state.version != version {
                state.drop()
                state.version = version
            }
            // The instant before the read: a change committed after it is seen by the next check.
            state.checkedAt = started
            return state.generation
        }
    }

    public func createClient(_ client: Client) async throws {
        defer { state.withLock { $0.drop() } }
        try await store.createClient(client)
    }

    public func clients() async throws -> [Client] {
        try await store.clients()
    }

    public func deleteClient(id: String) async throws -> Bool {
        defer { state.withLock { $0.drop() } }
        return try await store.deleteClient(id: id)
    }

    public func forgetCopies() {
        state.withLock { $0.drop() }
    }

    /// Drops the copies whenever the store announces a change, until the task is
    /// cancelled; returns at once for a store that announces none.
    public func run() async {
        await followClientChanges {}
    }

    public func followClientChanges(_ changed: @escaping @Sendable () -> Void) async {
        await store.followClientChanges { [self] in
            forgetCopies()
            changed()
        }
    }

    public func clientsVersion() async throws -> Int64 {
        try await store.clientsVersion()
    }
}
