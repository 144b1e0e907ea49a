import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// docs/storage.md, "Cleanup": the PostgreSQL store's purge keeps and deletes the rows
/// the SQLite store's CleanupTests expect, and one instance purges at a time.
/// Rows are written with SQL, so every state and time can be set exactly.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresCleanupTests {
    static let second: EpochMilliseconds = 1000
    static let day: EpochMilliseconds = 86_400_000
    let now = ManualClock().now
    let retain = Self.day
    var cutoff: EpochMilliseconds { now - retain }

    /// A fresh database with client `app` and user `alice`.
    func withRows(_ body: (any TokenDatabase, Rows) async throws -> Void) async throws {
        try await StoreFixture.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            try await body(store, Rows(settings: settings))
        }
    }

    struct Rows {
        let settings: PostgreSQLSettings
        static var nextFamily: Int64 { .random(in: 1...Int64.max) }

        /// A refresh-token row of alice's, in a family of its own unless told; returns its id.
        func refreshToken(
            _ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil,
            family: Int64 = Rows.nextFamily
        ) async throws -> Int64 {
            try await PostgresTestDatabase.value(
                Int64.self,
                """
                INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    issued_at, expires_at, state_changed_at, family_id)
                VALUES (\(bytes(StoreFixture.randomBytes(32))), '\\x00', 'app', 'user', 'alice', 'openid', \(state),
                    \(expiresAt - PostgresCleanupTests.day), \(expiresAt),
                    \(stateChangedAt ?? expiresAt - PostgresCleanupTests.day), \(family))
                RETURNING id
                """, on: settings) ?? -1
        }

        /// An access-token row: alice's when it has a refresh token, else the client's own.
        func accessToken(
            _ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil,
            refresh: Int64? = nil, subjectType: String? = nil, scope: String = "openid"
        ) async throws -> Int64 {
            let subjectType = subjectType ?? (refresh == nil ? "client" : "user")
            let issuedAt = expiresAt - 3600 * PostgresCleanupTests.second
            return try await PostgresTestDatabase.value(
                Int64.self,
                """
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                VALUES (\(bytes(StoreFixture.randomBytes(32))), '\\x00', 'app', \(subjectType),
                    \(subjectType == "user" ? "alice" : "app"), \(scope), \(state), 'password', \(issuedAt), \(expiresAt),
                    \(refresh), \(stateChangedAt ?? issuedAt))
                RETURNING id
                """, on: settings) ?? -1
        }

        func ids(_ table: String) async throws -> Set<Int64> {
            // `table` is one of the test's own constants.
            Set(
                try await PostgresTestDatabase.query(PostgresQuery(unsafeSQL: "SELECT id FROM \(table)"), on: settings)
                    .map { try $0.decode(Int64.self) })
        }
    }

    // MARK: Which rows go

    @Test func accessRowsGoOnceRetiredOrExpiredLongerThanRetainAndTheirRefreshTokenIsDeadToo() async throws {
        try await withRows { store, rows in
            // Given client tokens (no refresh token) in every situation
            _ = try await rows.accessToken("EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 1)
            _ = try await rows.accessToken("REVOKED", expiresAt: now + 3600, stateChangedAt: cutoff - 1)
            let revokedRecently = try await rows.accessToken("REVOKED", expiresAt: cutoff - 10, stateChangedAt: cutoff + 1)
            _ = try await rows.accessToken("ACTIVE", expiresAt: cutoff - 1, scope: "a")
            let activeExpiredRecently = try await rows.accessToken("ACTIVE", expiresAt: cutoff + 1, scope: "b")
            let activeUsable = try await rows.accessToken("ACTIVE", expiresAt: now + 3600, scope: "c")
            // And a user's row whose refresh token row is gone (refresh_token_id set NULL)
            _ = try await rows.accessToken("INACTIVE", expiresAt: now - 1, stateChangedAt: cutoff - 1, subjectType: "user")

            // When the rows are purged
            let deleted = try await store.purgeTokens(now: now, retainFor: retain)

            // Then exactly the rows retired or expired before now - retain are gone
            #expect(try await rows.ids("access_tokens") == [revokedRecently, activeExpiredRecently, activeUsable])
            #expect(deleted == TokenPurgeCount(accessTokens: 4, refreshTokens: 0))
        }
    }

    @Test func aRefreshTokenAndItsAccessRowsGoTogetherOnceBothAreDeadLongerThanRetain() async throws {
        try await withRows { store, rows in
            let deadRefresh = try await rows.refreshToken("REVOKED", expiresAt: cutoff - 1, stateChangedAt: cutoff - 5)
            _ = try await rows.accessToken("REVOKED", expiresAt: cutoff - 5, stateChangedAt: cutoff - 5, refresh: deadRefresh)
            let abandonedRefresh = try await rows.refreshToken("ACTIVE", expiresAt: cutoff - 1)
            _ = try await rows.accessToken("ACTIVE", expiresAt: cutoff - 2, refresh: abandonedRefresh)

            let deleted = try await store.purgeTokens(now: now, retainFor: retain)

            #expect(try await rows.ids("access_tokens").isEmpty)
            #expect(try await rows.ids("refresh_tokens").isEmpty)
            #expect(deleted == TokenPurgeCount(accessTokens: 2, refreshTokens: 2))
        }
    }

    @Test func rowsStayWhileTheirRefreshTokenCanStillBeUsedOrReplayed() async throws {
        try await withRows { store, rows in
            let carriedOver = try await rows.refreshToken("ACTIVE", expiresAt: now + Self.day)
            let expiredAccess = try await rows.accessToken(
                "EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 10, refresh: carriedOver)
            let activeAccess = try await rows.accessToken("ACTIVE", expiresAt: cutoff - 5, refresh: carriedOver)
            let rotated = try await rows.refreshToken("INACTIVE", expiresAt: cutoff + 1, stateChangedAt: cutoff - 10)
            let rotatedAccess = try await rows.accessToken(
                "INACTIVE", expiresAt: cutoff - 10, stateChangedAt: cutoff - 10, refresh: rotated)
            let revokedUnexpired = try await rows.refreshToken("REVOKED", expiresAt: now + 1, stateChangedAt: cutoff - 10)
            let activeUnreferenced = try await rows.refreshToken("ACTIVE", expiresAt: now + 1)
            let activeExpiredRecently = try await rows.refreshToken("ACTIVE", expiresAt: cutoff + 1)

            let deleted = try await store.purgeTokens(now: now, retainFor: retain)

            #expect(deleted == TokenPurgeCount())
            #expect(try await rows.ids("access_tokens") == [expiredAccess, activeAccess, rotatedAccess])
            #expect(
                try await rows.ids("refresh_tokens")
                    == [carriedOver, rotated, revokedUnexpired, activeUnreferenced, activeExpiredRecently])
        }
    }

    @Test func aRotatedRefreshTokenIsKeptWhileItsFamilyLives() async throws {
        try await withRows { store, rows in
            // Given a rotated refresh token long past expiry + retain, in a family whose
            // current refresh token is still usable, and another such token in a dead family
            let rotated = try await rows.refreshToken("INACTIVE", expiresAt: cutoff - Self.day, family: 1)
            let current = try await rows.refreshToken("ACTIVE", expiresAt: now + Self.day, family: 1)
            _ = try await rows.refreshToken("INACTIVE", expiresAt: cutoff - Self.day, family: 2)
            // When the purge runs
            let deleted = try await store.purgeTokens(now: now, retainFor: retain)
            // Then the live family keeps its rotated row (a replay of it must still be detected)
            #expect(try await rows.ids("refresh_tokens") == [rotated, current])
            #expect(deleted == TokenPurgeCount(accessTokens: 0, refreshTokens: 1))
        }
    }

    @Test func moreRowsThanOneBatchAreAllDeleted() async throws {
        try await withRows { store, rows in
            // Given 1,201 dead client tokens and a live one: more than two batches of 500
            try await PostgresTestDatabase.query(
                """
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    grant_type, issued_at, expires_at, state_changed_at)
                SELECT sha256(int8send(n)), '\\x00', 'app', 'client', 'app', 'openid', 'REVOKED', 'client_credentials',
                       1, 3, 2
                FROM generate_series(1, 1201) AS n
                """, on: rows.settings)
            let live = try await rows.accessToken("ACTIVE", expiresAt: now + 3600)
            // When the rows are purged in batches of 500
            let deleted = try await store.purgeTokens(now: now, retainFor: retain)
            // Then every dead row is gone and the live one stays
            #expect(deleted == TokenPurgeCount(accessTokens: 1201, refreshTokens: 0))
            #expect(try await rows.ids("access_tokens") == [live])
        }
    }

    // MARK: One purge at a time

    @Test func aPurgeFindingAnotherInstancePurgingReturnsZeroAndDeletesNothing() async throws {
        try await withRows { store, rows in
            let dead = try await rows.accessToken("EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 1)
            try await PostgresTestDatabase.withConnection(to: rows.settings) { other in
                // Given another instance in the middle of a purge (it holds the purge lock)
                _ = try await other.query("SELECT pg_advisory_lock(\(AdvisoryLock.purge))", logger: PostgresTestDatabase.logger)
                    .collect()
                // When this instance purges, it skips: zero rows, the dead row still there
                #expect(try await store.purgeTokens(now: now, retainFor: retain) == TokenPurgeCount())
                #expect(try await rows.ids("access_tokens") == [dead])
                // When the other finishes, this one purges
                _ = try await other.query("SELECT pg_advisory_unlock(\(AdvisoryLock.purge))", logger: PostgresTestDatabase.logger)
                    .collect()
            }
            #expect(try await store.purgeTokens(now: now, retainFor: retain) == TokenPurgeCount(accessTokens: 1))
            #expect(try await rows.ids("access_tokens").isEmpty)
        }
    }

    @Test func twoSimultaneousPurgesNeverBothWork() async throws {
        try await withRows { store, rows in
            try await PostgresTestDatabase.query(
                """
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    grant_type, issued_at, expires_at, state_changed_at)
                SELECT sha256(int8send(n)), '\\x00', 'app', 'client', 'app', 'openid', 'REVOKED', 'client_credentials',
                       1, 3, 2
                FROM generate_series(1, 2000) AS n
                """, on: rows.settings)
            // When two instances purge at once
            let second = try await PostgresDatabase.open(rows.settings, now: 0, logger: StoreFixture.logger)
            async let first = store.purgeTokens(now: now, retainFor: retain)
            async let other = second.purgeTokens(now: now, retainFor: retain)
            let counts = try await [first, other].map(\.total).sorted()
            try await second.close()
            // Then one did all the work and the other none (it skipped, or came after)
            #expect(counts == [0, 2000])
        }
    }
}
