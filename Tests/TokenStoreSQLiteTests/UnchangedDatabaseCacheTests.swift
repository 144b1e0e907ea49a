import Foundation
import GRDB
import MetricsTestKit
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// Lookups answered from memory while nobody commits (docs/storage.md, "Reads answered
/// from memory"): a commit by any connection, in this process or another, ends them at once.
/// `token_authority_token_lookups_total` counts where each lookup was answered.
@Suite struct UnchangedDatabaseCacheTests {
    let directory: TemporaryDirectory
    let metrics = TestMetrics()
    let store: SQLiteStore
    /// A second connection to the same file, writing as another process would.
    let other: DatabaseQueue
    let cipher = try! TokenCipher(keyBytes: Array(repeating: 1, count: 32))
    let key: TokenKey

    init() async throws {
        directory = try TemporaryDirectory()
        let path = directory.file("db.sqlite3")
        store = try SQLiteStore.open(path: path, now: 0, metrics: metrics)
        other = try DatabaseQueue(path: path)
        let client = try await Fixtures.registerClient(in: store, id: "app")
        key = TokenKey(clientID: client.clientID, subject: .client(client.clientID), scope: try ScopeSet(parsing: "read"))
    }

    func issue(for key: TokenKey) async throws -> NewTokenPair {
        let pair = NewTokenPair(
            grantType: .clientCredentials, access: try cipher.seal(TokenCipher.newToken()), issuedAt: 1000,
            accessExpiresAt: 3_601_000, refresh: nil, refreshExpiresAt: 0)
        _ = try await store.issue(pair, for: key) { _ in .issue(retiring: .expired, refresh: .none) }
        return pair
    }

    /// The lookups of `lookup` answered from memory and read from the database, as `/metrics` counts them.
    func answered(
        _ lookup: LookupCounters.Lookup, in metrics: TestMetrics? = nil
    ) throws -> (memory: Int64, database: Int64) {
        let metrics = metrics ?? self.metrics
        func count(_ from: String) throws -> Int64 {
            let dimensions = [("lookup", lookup.rawValue), ("answered_from", from)]
            return try metrics.expectCounter(LookupCounters.label, dimensions).totalValue
        }
        return (try count("memory"), try count("database"))
    }

    @Test func theActiveTokenIsAnsweredFromMemoryUntilAnotherConnectionRevokesIt() async throws {
        // Given an ACTIVE token, looked up once (read) and once more (from memory)
        let pair = try await issue(for: key)
        #expect(store.activeTokens.isEnabled)
        let first = try #require(try await store.activeToken(for: key))
        #expect(try await store.activeToken(for: key) == first)
        #expect(try answered(.activeToken) == (memory: 1, database: 1))

        // When another connection revokes it
        try await other.write { db in try db.execute(sql: "UPDATE access_tokens SET state = 'REVOKED'") }

        // Then the very next lookup reads, and finds no ACTIVE token
        #expect(try await store.activeToken(for: key) == nil)
        #expect(try answered(.activeToken) == (memory: 1, database: 2))
        #expect(first.accessCiphertext == pair.access.ciphertext)
    }

    @Test func aFoundTokenIsAnsweredFromMemoryUntilAnotherConnectionRevokesIt() async throws {
        // Given a token found by its lookup key twice, the second time from memory
        let pair = try await issue(for: key)
        #expect(try await store.findToken(digest: pair.access.digest, preferring: nil)?.state == .active)
        #expect(try await store.findToken(digest: pair.access.digest, preferring: nil)?.state == .active)
        #expect(try answered(.presentedToken) == (memory: 1, database: 1))

        // When another connection revokes it, then the next lookup reads and finds it revoked
        try await other.write { db in try db.execute(sql: "UPDATE access_tokens SET state = 'REVOKED'") }
        #expect(try await store.findToken(digest: pair.access.digest, preferring: nil)?.state == .revoked)
        #expect(try answered(.presentedToken) == (memory: 1, database: 2))
    }

    @Test func aCommitOfTheStoreItselfEndsTheAnswersToo() async throws {
        // Given an ACTIVE token answered from memory
        let pair = try await issue(for: key)
        _ = try await store.activeToken(for: key)
        // When the store revokes it itself, then the next lookup finds none
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: nil, at: 2000) == .revoked)
        #expect(try await store.activeToken(for: key) == nil)
    }

    @Test func keysCompareAsBytes() async throws {
        // Given a token of client "é" (one code point) answered from memory
        let composed = try await Fixtures.registerClient(in: store, id: "\u{E9}")
        let decomposed = try await Fixtures.registerClient(in: store, id: "e\u{301}")
        let composedKey = TokenKey(clientID: composed.clientID, subject: .client(composed.clientID), scope: key.scope)
        _ = try await issue(for: composedKey)
        #expect(try await store.activeToken(for: composedKey) != nil)

        // Then client "é" spelled as e and a combining accent, equal to it as Swift strings, has none
        let decomposedKey = TokenKey(clientID: decomposed.clientID, subject: .client(decomposed.clientID), scope: key.scope)
        #expect(composed.clientID == decomposed.clientID)
        #expect(try await store.activeToken(for: decomposedKey) == nil)
    }

    @Test func throughASymbolicLinkTheWALIndexWatchedIsSQLitesOwn() async throws {
        // Given the database opened through a symbolic link, next to which lies a stray
        // `-shm` file whose header never moves
        let link = directory.file("link.sqlite3")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: store.writer.path)
        let stray = [UInt8](repeating: 0, count: 12) + [1] + [UInt8](repeating: 0, count: 35)
        try Data((stray + stray + [UInt8](repeating: 0, count: 32_672))).write(to: URL(fileURLWithPath: link + "-shm"))
        let linkedMetrics = TestMetrics()
        let linked = try SQLiteStore.open(path: link, now: 0, metrics: linkedMetrics)
        _ = try await issue(for: key)
        #expect(try await linked.activeToken(for: key) != nil)
        #expect(try await linked.activeToken(for: key) != nil)
        #expect(try answered(.activeToken, in: linkedMetrics) == (memory: 1, database: 1))

        // When another connection revokes the token, then the store through the link sees it
        try await other.write { db in try db.execute(sql: "UPDATE access_tokens SET state = 'REVOKED'") }
        #expect(try await linked.activeToken(for: key) == nil)
        try await linked.close()
    }

    @Test func aClosedStoreKeepsNothing() async throws {
        _ = try await issue(for: key)
        try await store.close()
        #expect(!store.activeTokens.isEnabled)
        #expect(!store.foundTokens.isEnabled)
    }

    @Test func whenFullEveryAnswerIsDroppedAndTheNewOneKept() async throws {
        // Given a cache of two answers on this database, holding two
        let header = try await store.writer.writeWithoutTransaction { db in try WALIndexHeader.of(db) }
        let cache = UnchangedDatabaseCache<String, Int>(
            header: header, capacity: 2, counters: LookupCounters(.activeToken, factory: metrics))
        for (index, name) in ["a", "b"].enumerated() { _ = try await cache.value(for: name) { index } }
        // When a third is read, then the first two are read again, the third is not
        _ = try await cache.value(for: "c") { 2 }
        #expect(try await cache.value(for: "c") { -1 } == 2)
        #expect(try await cache.value(for: "a") { -1 } == -1)
        #expect(try answered(.activeToken) == (memory: 1, database: 4))
    }
}
