import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// docs/storage.md, "Clients in memory", on PostgreSQL: a change to a client made by
/// another instance reaches every instance's client cache as a `NOTIFY`, so a copy
/// is dropped at once rather than at the next read of the version. The caches here
/// read the version once an hour: only the notification can drop their copies.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresClientChangesTests {
    @Test func aClientDeletedByAnotherInstanceIsDroppedFromMemoryAtOnce() async throws {
        try await withClientInMemory { cache, told, elsewhere, _ in
            // When another instance deletes it
            #expect(try await elsewhere.deleteClient(id: "app"))

            // Then this one is told, and no longer finds it
            try await told.next()
            #expect(try await cache.client(id: "app") == nil)
        }
    }

    @Test func aNewSecretFromAnotherInstanceReplacesTheCopyAtOnce() async throws {
        try await withClientInMemory { cache, told, _, settings in
            let before = try #require(try await cache.client(id: "app")).secretDigest

            // When an operator gives it a new secret in psql, behind every instance's back
            try await PostgresTestDatabase.query(
                "UPDATE clients SET secret_sha256 = decode(repeat('07', 32), 'hex') WHERE client_id = 'app'",
                on: settings)

            // Then the copy is read again, with the new secret
            try await told.next()
            let after = try #require(try await cache.client(id: "app")).secretDigest
            #expect(after == Array(repeating: 7, count: 32))
            #expect(after != before)
        }
    }

    @Test func theListenerConnectsAgainWhenItsConnectionIsLost() async throws {
        try await withClientInMemory { cache, told, elsewhere, settings in
            // When the listening session is ended by the server (a restart, a failover, an operator)
            let ended = try await PostgresTestDatabase.value(
                Int.self,
                """
                SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                WHERE application_name = 'token-authority (client changes)' AND datname = current_database()
                """, on: settings)
            #expect(ended == 1)

            // Then the copies are dropped (a change may go untold), the listener is back,
            // and a change made afterwards is announced again
            try await told.next()  // lost
            try await told.next()  // listening again
            #expect(try await cache.client(id: "app") != nil)
            #expect(try await elsewhere.deleteClient(id: "app"))
            try await told.next()
            #expect(try await cache.client(id: "app") == nil)
        }
    }

    /// Given two stores opened on one fresh database, as two instances open it, and a
    /// client `app` registered through the second, which the first's cache holds in
    /// memory while it follows the announced changes (listening has begun).
    private func withClientInMemory(
        _ body: (ClientCache, Announcements, _ elsewhere: any TokenDatabase, PostgreSQLSettings) async throws -> Void
    ) async throws {
        try await TestStore.withStore { elsewhere, settings in
            try await Fixtures.registerClient(in: elsewhere, id: "app")
            let here = try await PostgresDatabase.open(settings, now: 0, logger: TestStore.logger)
            let cache = ClientCache(store: here, recheckInterval: .seconds(3600))
            let told = Announcements(cache)
            do {
                try await told.next()  // listening
                #expect(try await cache.client(id: "app") != nil)
                try await body(cache, told, elsewhere, settings)
                told.stop()
                try await here.close()
            } catch {
                told.stop()
                try? await here.close()
                throw error
            }
        }
    }
}

/// Each time a cache following its store's announcements is told of a change
/// (`ClientCache.followClientChanges`), in order.
private final class Announcements: Sendable {
    private let stream: AsyncStream<Void>
    private let following: Task<Void, Never>

    init(_ cache: ClientCache) {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        self.stream = stream
        following = Task { await cache.followClientChanges { continuation.yield() } }
    }

    /// Waits for the next announcement; fails after 10 s, when none came.
    func next() async throws {
        let stream = stream
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                var iterator = stream.makeAsyncIterator()
                return await iterator.next() != nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return false
            }
            let told = try await group.next() ?? false
            group.cancelAll()
            if !told { throw TestDatabaseError("no client change announced within 10 s") }
        }
    }

    func stop() { following.cancel() }
}
