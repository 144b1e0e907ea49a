import GRDB
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// The connections `SQLiteStore.lookup` reads on (docs/performance.md, "GRDB's reader
/// hand-over"): bounded, read-only, and never behind the writer.
@Suite struct LookupConnectionsTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
    }

    func connections(limit: Int) -> LookupConnections {
        LookupConnections(path: store.writer.path, configuration: store.writer.configuration, limit: limit)
    }

    @Test func aLookupReadsOnThemAndSeesEveryCommitBeforeIt() async throws {
        // Given a lookup that found no client, on a connection now idle
        #expect(try await store.client(id: "app") == nil)
        #expect(store.lookups.opened == 1)
        // When the writer commits one
        try await Fixtures.registerClient(in: store, id: "app")
        // Then the next lookup, on the same connection, sees it: no read transaction stayed open
        #expect(try await store.client(id: "app")?.clientID == "app")
        #expect(store.lookups.opened == 1)
    }

    @Test func noMoreThanTheLimitOpenAndTheCallerIsToldToReadElsewhere() throws {
        let connections = connections(limit: 1)
        defer { try? connections.close() }
        // While the only connection is in use, a second read gets none
        let inner = try connections.read { _ in try connections.read { db in try Int.fetchOne(db, sql: "SELECT 1") } }
        #expect(inner == .some(nil))
        #expect(connections.opened == 1)
        // Once it is given back, it serves again
        #expect(try connections.read { db in try Int.fetchOne(db, sql: "SELECT 2") } == 2)
    }

    @Test func aBurstOfLookupsOpensNoMoreThanTheLimit() async throws {
        try await Fixtures.registerClient(in: store, id: "app")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let found = try await store.client(id: "app")
                    #expect(found?.clientID == "app")
                }
            }
            try await group.waitForAll()
        }
        #expect(store.lookups.opened <= store.writer.configuration.maximumReaderCount)
    }

    @Test func theyCannotWrite() throws {
        let connections = connections(limit: 1)
        defer { try? connections.close() }
        let error = #expect(throws: DatabaseError.self) {
            _ = try connections.read { db in try db.execute(sql: "DELETE FROM clients") }
        }
        #expect(error?.resultCode == .SQLITE_READONLY)
    }

    @Test func onceClosedTheyServeNoMore() throws {
        let connections = connections(limit: 2)
        #expect(try connections.read { db in try Int.fetchOne(db, sql: "SELECT 1") } == 1)
        try connections.close()
        #expect(try connections.read { db in try Int.fetchOne(db, sql: "SELECT 1") } == nil)
    }
}
