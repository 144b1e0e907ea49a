import Foundation
import GRDB
import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

@Suite struct SQLiteStoreTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let cipher = try! TokenCipher(keyBytes: Array(repeating: 1, count: 32))
    let key: TokenKey

    init() async throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        let client = try await Fixtures.registerClient(in: store, id: "app")
        try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
        key = TokenKey(clientID: client.clientID, subject: .user("alice"), scope: try ScopeSet(parsing: "openid"))
    }

    func newPair(at now: EpochMilliseconds = 1000) throws -> NewTokenPair {
        NewTokenPair(
            grantType: .password, access: try cipher.seal(TokenCipher.newToken()), issuedAt: now,
            accessExpiresAt: now + 3_600_000, refresh: try cipher.seal(TokenCipher.newToken()),
            refreshExpiresAt: now + 86_400_000)
    }

    func count(_ sql: String) async throws -> Int {
        try await store.writer.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    @Test func theDatabaseAllowsOneActiveTokenPerKey() async throws {
        // Given an ACTIVE token for the key
        _ = try await store.issue(try newPair(), for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        // When a second ACTIVE row for the same key is inserted behind the store's back
        // Then SQLite refuses it: the invariant is the unique partial index's, not the process's
        await #expect(throws: DatabaseError.self) {
            try await store.writer.write { db in
                try db.execute(sql: """
                    INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                        grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                    SELECT randomblob(32), token_sealed, client_id, subject_type, subject, scope, 'ACTIVE', grant_type,
                        issued_at, expires_at, refresh_token_id, 0 FROM access_tokens
                    """)
            }
        }
        // While rows of other states may repeat
        try await store.writer.write { db in
            try db.execute(sql: """
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                SELECT randomblob(32), token_sealed, client_id, subject_type, subject, scope, 'EXPIRED', grant_type,
                    issued_at, expires_at, refresh_token_id, 0 FROM access_tokens
                """)
        }
        #expect(try await count("SELECT count(*) FROM access_tokens") == 2)
    }

    @Test func reuseReturnsTheActiveRowAndWritesNothing() async throws {
        let first = try await store.issue(try newPair(), for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        let second = try await store.issue(try newPair(), for: key) { active in
            #expect(active == first)
            return .reuse
        }
        #expect(second == first)
        #expect(try await count("SELECT count(*) FROM access_tokens") == 1)
        #expect(try await store.activeToken(for: key) == first)
    }

    @Test func replacingRetiresTheOldRowInTheSameTransaction() async throws {
        let first = try await store.issue(try newPair(), for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        let second = try await store.issue(try newPair(at: 2000), for: key) { _ in
            .issue(retiring: .revoked, refresh: .issueNew(retiring: .revoked))
        }
        #expect(second.accessTokenID != first.accessTokenID)
        #expect(try await count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'") == 1)
        #expect(try await count("SELECT count(*) FROM refresh_tokens WHERE state = 'REVOKED'") == 1)
        #expect(try await count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
        #expect(try await count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 1)
    }

    @Test func carryOverKeepsTheRefreshTokenRow() async throws {
        let first = try await store.issue(try newPair(), for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        let second = try await store.issue(try newPair(at: 2000), for: key) { _ in .issue(retiring: .expired, refresh: .carryOver) }
        #expect(second.refreshToken == first.refreshToken)
        #expect(try await count("SELECT count(*) FROM refresh_tokens") == 1)
        #expect(try await count("SELECT count(*) FROM access_tokens WHERE state = 'EXPIRED'") == 1)
    }

    @Test func revokingAnAccessTokenRevokesItsRefreshTokenDurably() async throws {
        let pair = try newPair()
        _ = try await store.issue(pair, for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "other", at: 5000) == .otherClient)
        #expect(try await count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "app", at: 5000) == .revoked)
        #expect(try await count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'") == 1)
        #expect(try await count("SELECT count(*) FROM refresh_tokens WHERE state = 'REVOKED'") == 1)
        // A second revocation finds nothing ACTIVE.
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "app", at: 6000) == .nothingToRevoke)
        #expect(try await store.revokeToken(digest: [0], ownedBy: nil, at: 6000) == .nothingToRevoke)
        // The connection is back to synchronous = NORMAL for issuance (1 = NORMAL).
        #expect(try await store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
    }

    @Test func revocationCommitsWithAFullSyncWhileIssuanceDoesNot() async throws {
        // Given the writer connection's statements traced
        let statements = Mutex<[String]>([])
        try await store.writer.write { db in
            db.trace { event in
                if case .statement(let statement) = event { statements.withLock { $0.append(statement.sql) } }
            }
        }
        // When a token is issued, then revoked
        let pair = try newPair()
        _ = try await store.issue(pair, for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        let issuance = statements.withLock { $0 }
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: nil, at: 5000) == .revoked)
        let revocation = statements.withLock { Array($0.dropFirst(issuance.count)) }
        // Then only the revocation's COMMIT runs under synchronous = FULL (docs/storage.md)
        #expect(!issuance.contains { $0.contains("synchronous = FULL") })
        let full = try #require(revocation.firstIndex { $0.contains("synchronous = FULL") })
        let commit = try #require(revocation.firstIndex { $0.hasPrefix("COMMIT") })
        let normal = try #require(revocation.firstIndex { $0.contains("synchronous = NORMAL") })
        #expect(full < commit && commit < normal)
    }

    @Test func revokingARefreshTokenRevokesItsAccessTokens() async throws {
        let pair = try newPair()
        _ = try await store.issue(pair, for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        #expect(try await store.revokeToken(digest: try #require(pair.refresh).digest, ownedBy: nil, at: 5000) == .revoked)
        #expect(try await count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 0)
        #expect(try await count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 0)
    }

    @Test func deletingAUserOrAClientDeletesTheirTokens() async throws {
        _ = try await store.issue(try newPair(), for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        #expect(try await store.deleteUser(named: "alice"))
        #expect(try await count("SELECT count(*) FROM access_tokens") == 0)
        #expect(try await count("SELECT count(*) FROM refresh_tokens") == 0)

        let appKey = TokenKey(clientID: "app", subject: .client("app"), scope: .default)
        var appPair = try newPair()
        appPair.refresh = nil
        _ = try await store.issue(appPair, for: appKey) { _ in .issue(retiring: .expired, refresh: .none) }
        #expect(try await store.deleteClient(id: "app"))
        #expect(try await count("SELECT count(*) FROM access_tokens") == 0)
        #expect(try await !store.deleteClient(id: "app"))
    }

    @Test func duplicatesAreReportedAsSuch() async throws {
        await #expect(throws: StoreError.alreadyExists("client app")) {
            try await Fixtures.registerClient(in: store, id: "app")
        }
        await #expect(throws: StoreError.alreadyExists("user alice")) {
            try await Fixtures.registerUser(in: store, username: "alice", password: "x")
        }
    }

    @Test func hostileTextIsStoredAsText() async throws {
        let name = "'; DROP TABLE clients; --"
        try await Fixtures.registerUser(in: store, username: name, password: "x")
        #expect(try await store.user(named: name)?.username == name)
        #expect(try await count("SELECT count(*) FROM clients") == 1)
    }

    @Test func listingFiltersByClientUserAndState() async throws {
        _ = try await store.issue(try newPair(), for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        _ = try await store.issue(try newPair(at: 2000), for: key) { _ in .issue(retiring: .revoked, refresh: .issueNew(retiring: .revoked)) }
        #expect(try await store.tokens(matching: TokenFilter()).count == 2)
        #expect(try await store.tokens(matching: TokenFilter(state: .revoked)).map(\.state) == [.revoked])
        #expect(try await store.tokens(matching: TokenFilter(username: "bob")).isEmpty)
        #expect(try await store.tokens(matching: TokenFilter(clientID: "app", username: "alice")).count == 2)
    }

    @Test func viewsShowISO8601Times() async throws {
        _ = try await store.issue(try newPair(at: 1_767_225_600_123), for: key) { _ in
            .issue(retiring: .expired, refresh: .issueNew(retiring: .expired))
        }
        let issuedAt = try await store.writer.read { db in try String.fetchOne(db, sql: "SELECT issued_at FROM access_tokens_view") }
        #expect(issuedAt == "2026-01-01T00:00:00.123Z")
    }
}

@Suite struct WALCheckpointerTests {
    @Test func checkpointCopiesTheWALIntoTheDatabaseFile() async throws {
        // Given a store with writes sitting in its WAL
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("db.sqlite3")
        let store = try SQLiteStore.open(path: path, now: 0)
        for index in 0..<50 { try await Fixtures.registerClient(in: store, id: "client-\(index)") }
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        // When the checkpointer runs from its own connection
        let checkpointer = try WALCheckpointer(path: path)
        let walPages = try await checkpointer.checkpoint()
        // Then the pages are in the database file, readable without the WAL
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(walPages > 0)
        #expect(sizeAfter > sizeBefore)
        #expect(try await store.clients().count == 50)
    }
}
