import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// docs/storage.md, "Cleanup", on several instances: one purges at a time, under an
/// advisory lock. Which rows a purge keeps is the store conformance suite's part.
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
        try await TestStore.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            try await body(store, Rows(settings: settings))
        }
    }

    struct Rows {
        let settings: PostgreSQLSettings
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
                VALUES (\(bytes(TestStore.randomBytes(32))), '\\x00', 'app', \(subjectType),
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
            let second = try await PostgresDatabase.open(rows.settings, now: 0, logger: TestStore.logger)
            async let first = store.purgeTokens(now: now, retainFor: retain)
            async let other = second.purgeTokens(now: now, retainFor: retain)
            let counts = try await [first, other].map(\.total).sorted()
            try await second.close()
            // Then one did all the work and the other none (it skipped, or came after)
            #expect(counts == [0, 2000])
        }
    }
}
