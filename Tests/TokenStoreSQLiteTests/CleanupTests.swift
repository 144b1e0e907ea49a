import Foundation
import GRDB
import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// docs/storage.md, "Cleanup": which rows `purgeTokens` deletes, at an explicit `now`.
/// Rows are written with SQL, so every state and time can be set exactly.
@Suite struct CleanupTests {
    static let second: EpochMilliseconds = 1000
    static let day: EpochMilliseconds = 86_400_000
    /// The moment of the purge, and how long rows are kept after they left use.
    let now = ManualClock().now
    let retain = Self.day
    var cutoff: EpochMilliseconds { now - retain }

    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() async throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        try await Fixtures.registerClient(in: store, id: "app")
        try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
    }

    // MARK: Rows

    /// A refresh-token row of alice's; returns its id.
    func refreshToken(_ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil)
        async throws -> Int64
    {
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                        issued_at, expires_at, state_changed_at)
                    VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'openid', ?, ?, ?, ?)
                    """,
                arguments: [state, expiresAt - Self.day, expiresAt, stateChangedAt ?? expiresAt - Self.day])
            return db.lastInsertedRowID
        }
    }

    /// An access-token row: alice's when it has a refresh token, else the client's own.
    func accessToken(
        _ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil, refresh: Int64? = nil,
        subjectType: String? = nil, scope: String = "openid"
    ) async throws -> Int64 {
        let subjectType = subjectType ?? (refresh == nil ? "client" : "user")
        return try await store.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                        grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                    VALUES (randomblob(32), x'00', 'app', ?, ?, ?, ?, 'password', ?, ?, ?, ?)
                    """,
                arguments: [
                    subjectType, subjectType == "user" ? "alice" : "app", scope, state, expiresAt - 3600 * Self.second,
                    expiresAt, refresh, stateChangedAt ?? expiresAt - 3600 * Self.second,
                ])
            return db.lastInsertedRowID
        }
    }

    func ids(_ table: String) async throws -> Set<Int64> {
        try await store.writer.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM \(table)")) }
    }

    // MARK: Which rows go

    @Test func accessRowsGoOnceRetiredOrExpiredLongerThanRetainAndTheirRefreshTokenIsDeadToo() async throws {
        // Given client tokens (no refresh token) in every situation
        let expiredLongAgo = try await accessToken("EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 1)
        let revokedLongAgo = try await accessToken("REVOKED", expiresAt: now + 3600, stateChangedAt: cutoff - 1)
        let revokedRecently = try await accessToken("REVOKED", expiresAt: cutoff - 10, stateChangedAt: cutoff + 1)
        // (each ACTIVE row on a key, that is a scope, of its own: one ACTIVE row per key)
        let activeExpiredLongAgo = try await accessToken("ACTIVE", expiresAt: cutoff - 1, scope: "a")
        let activeExpiredRecently = try await accessToken("ACTIVE", expiresAt: cutoff + 1, scope: "b")
        let activeUsable = try await accessToken("ACTIVE", expiresAt: now + 3600, scope: "c")
        // And a user's row whose refresh token row is gone (refresh_token_id set NULL)
        let userRowWithoutRefresh = try await accessToken(
            "INACTIVE", expiresAt: now - 1, stateChangedAt: cutoff - 1, subjectType: "user")

        // When the rows are purged
        let deleted = try await store.purgeTokens(now: now, retainFor: retain)

        // Then exactly the rows retired or expired before now - retain are gone
        #expect(
            try await ids("access_tokens") == [revokedRecently, activeExpiredRecently, activeUsable],
            "deleted: \([expiredLongAgo, revokedLongAgo, activeExpiredLongAgo, userRowWithoutRefresh])")
        #expect(deleted == TokenPurgeCount(accessTokens: 4, refreshTokens: 0))
    }

    @Test func aRefreshTokenAndItsAccessRowsGoTogetherOnceBothAreDeadLongerThanRetain() async throws {
        // Given a revoked pair whose refresh token expired before now - retain
        let deadRefresh = try await refreshToken("REVOKED", expiresAt: cutoff - 1, stateChangedAt: cutoff - 5)
        let deadAccess = try await accessToken("REVOKED", expiresAt: cutoff - 5, stateChangedAt: cutoff - 5, refresh: deadRefresh)
        // And a user's ACTIVE pair, both expired before now - retain (never presented again)
        let abandonedRefresh = try await refreshToken("ACTIVE", expiresAt: cutoff - 1)
        let abandonedAccess = try await accessToken("ACTIVE", expiresAt: cutoff - 2, refresh: abandonedRefresh)

        // When the rows are purged
        let deleted = try await store.purgeTokens(now: now, retainFor: retain)

        // Then all four rows are gone in one purge: access rows first, so the refresh rows are free to go
        #expect(try await ids("access_tokens").isDisjoint(with: [deadAccess, abandonedAccess]))
        #expect(try await ids("refresh_tokens").isDisjoint(with: [deadRefresh, abandonedRefresh]))
        #expect(deleted == TokenPurgeCount(accessTokens: 2, refreshTokens: 2))
    }

    @Test func rowsStayWhileTheirRefreshTokenCanStillBeUsedOrReplayed() async throws {
        // Given an EXPIRED access row and the ACTIVE row it was replaced by, sharing a live refresh token
        let carriedOver = try await refreshToken("ACTIVE", expiresAt: now + Self.day)
        let expiredAccess = try await accessToken("EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 10, refresh: carriedOver)
        let activeAccess = try await accessToken("ACTIVE", expiresAt: cutoff - 5, refresh: carriedOver)
        // And a rotated refresh token (INACTIVE) that expired less than `retain` ago, with its INACTIVE access row
        let rotated = try await refreshToken("INACTIVE", expiresAt: cutoff + 1, stateChangedAt: cutoff - 10)
        let rotatedAccess = try await accessToken("INACTIVE", expiresAt: cutoff - 10, stateChangedAt: cutoff - 10, refresh: rotated)
        // And refresh tokens no access row references: revoked but not yet expired, and ACTIVE and unexpired
        let revokedUnexpired = try await refreshToken("REVOKED", expiresAt: now + 1, stateChangedAt: cutoff - 10)
        let activeUnreferenced = try await refreshToken("ACTIVE", expiresAt: now + 1)
        // And an ACTIVE refresh token that expired, but less than `retain` ago
        let activeExpiredRecently = try await refreshToken("ACTIVE", expiresAt: cutoff + 1)

        // When the rows are purged
        let deleted = try await store.purgeTokens(now: now, retainFor: retain)

        // Then nothing is deleted
        #expect(deleted == TokenPurgeCount())
        #expect(try await ids("access_tokens") == [expiredAccess, activeAccess, rotatedAccess])
        #expect(
            try await ids("refresh_tokens")
                == [carriedOver, rotated, revokedUnexpired, activeUnreferenced, activeExpiredRecently])
    }

    @Test func aRotatedRefreshTokenIsKeptUntilItsOwnExpiryPlusRetain() async throws {
        // Given refresh tokens rotated away (INACTIVE) long ago and expiring at E: one with
        // its access row (INACTIVE), one whose access rows are gone
        let expiry = now + Self.day
        let rotated = try await refreshToken("INACTIVE", expiresAt: expiry, stateChangedAt: now - 30 * Self.day)
        let access = try await accessToken("INACTIVE", expiresAt: now - 29 * Self.day, stateChangedAt: now - 30 * Self.day, refresh: rotated)
        let rotatedAlone = try await refreshToken("INACTIVE", expiresAt: expiry, stateChangedAt: now - 30 * Self.day)

        // When purges run up to E + retain
        for moment in [now, expiry, expiry + retain - 1, expiry + retain] {
            let deleted = try await store.purgeTokens(now: moment, retainFor: retain)

            // Then every row stays: presenting either token must still be detected as a replay
            #expect(deleted == TokenPurgeCount(), "at E + \(moment - expiry) ms")
        }
        #expect(try await ids("refresh_tokens") == [rotated, rotatedAlone])
        #expect(try await ids("access_tokens") == [access])

        // When a purge runs just after E + retain
        let deleted = try await store.purgeTokens(now: expiry + retain + 1, retainFor: retain)

        // Then all three go
        #expect(deleted == TokenPurgeCount(accessTokens: 1, refreshTokens: 2))
        #expect(try await ids("refresh_tokens").isEmpty)
        #expect(try await ids("access_tokens").isEmpty)
    }

    // MARK: Batches

    @Test func aRotatedRefreshTokenIsKeptWhileItsFamilyLives() async throws {
        // Given a rotated refresh token long past expiry + retain, in a family whose
        // current refresh token is still usable, and another such token in a dead family
        let rotated = try await refreshToken("INACTIVE", expiresAt: cutoff - Self.day)
        let current = try await refreshToken("ACTIVE", expiresAt: now + Self.day)
        let orphan = try await refreshToken("INACTIVE", expiresAt: cutoff - Self.day)
        try await store.writer.write { db in
            try db.execute(sql: "UPDATE refresh_tokens SET family_id = 1 WHERE id IN (?, ?)", arguments: [rotated, current])
            try db.execute(sql: "UPDATE refresh_tokens SET family_id = 2 WHERE id = ?", arguments: [orphan])
        }
        // When the purge runs
        let deleted = try await store.purgeTokens(now: now, retainFor: retain)
        // Then the live family keeps its rotated row (a replay of it must still be detected)
        #expect(try await ids("refresh_tokens") == [rotated, current])
        #expect(deleted == TokenPurgeCount(accessTokens: 0, refreshTokens: 1))
    }

    @Test func moreRowsThanOneBatchAreAllDeletedInShortTransactions() async throws {
        // Given 1,201 dead user pairs and one live one: more than two batches of 500
        let dead = 1201
        try await store.writer.write { db in
            for _ in 0..<dead {
                try db.execute(
                    sql: """
                        INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                            state, issued_at, expires_at, state_changed_at)
                        VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'openid', 'REVOKED', 1, ?, 2)
                        """, arguments: [cutoff - 1])
                try db.execute(
                    sql: """
                        INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                            state, grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                        VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'openid', 'REVOKED', 'password', 1, 3, ?, 2)
                        """, arguments: [db.lastInsertedRowID])
            }
        }
        let liveRefresh = try await refreshToken("ACTIVE", expiresAt: now + Self.day)
        let liveAccess = try await accessToken("ACTIVE", expiresAt: now + 3600, refresh: liveRefresh)
        // And an observer that counts the rows each committed transaction deleted
        let observer = DeletionsPerCommit()
        store.writer.add(transactionObserver: observer)

        // When the rows are purged
        let deleted = try await store.purgeTokens(now: now, retainFor: retain)

        // Then every dead row is gone and the live pair stays
        #expect(deleted == TokenPurgeCount(accessTokens: dead, refreshTokens: dead))
        #expect(try await ids("access_tokens") == [liveAccess])
        #expect(try await ids("refresh_tokens") == [liveRefresh])
        // And no transaction deleted more than one batch: 3 for the access rows, 3 for the refresh rows
        let commits = observer.commits
        #expect(commits.count == 6, "\(commits)")
        #expect(commits.allSatisfy { $0 <= SQLiteStore.purgeBatchSize }, "\(commits)")
    }
}

/// Counts the deletions of each committed transaction.
private final class DeletionsPerCommit: TransactionObserver, Sendable {
    private let state = Mutex<(current: Int, commits: [Int])>((0, []))

    var commits: [Int] { state.withLock { $0.commits } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .delete = eventKind { return true }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        state.withLock { $0.current += 1 }
    }

    func databaseDidCommit(_ db: Database) {
        state.withLock { state in
            if state.current > 0 { state.commits.append(state.current) }
            state.current = 0
        }
    }

    func databaseDidRollback(_ db: Database) {
        state.withLock { $0.current = 0 }
    }
}
