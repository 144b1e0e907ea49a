import Foundation
import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// docs/storage.md, "Round trips under a key's lock": the refresh grant reads the presented
/// token without a lock, and a refusal decided on that read is answered without waiting for
/// the key's lock; only a rotation or a replay writes, under it.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresUnlockedRefusalTests {
    @Test func aRevokedRefreshTokenIsRefusedWhileAnotherSessionHoldsItsKeysLock() async throws {
        try await TestStore.withStore { store, settings in
            // Given alice's pair, its refresh token revoked
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let key = TokenKey(clientID: "app", subject: .user("alice"), scope: try ScopeSet(parsing: "openid"))
            let cipher = try TokenCipher(keyBytes: Array(repeating: 1, count: 32))
            let refresh = try cipher.seal(TokenCipher.newToken())
            _ = try await store.issue(
                NewTokenPair(
                    grantType: .password, access: try cipher.seal(TokenCipher.newToken()), issuedAt: 1000,
                    accessExpiresAt: 3_601_000, refresh: refresh, refreshExpiresAt: 86_401_000),
                for: key
            ) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
            #expect(try await store.revokeToken(digest: refresh.digest, ownedBy: "app", at: 2000) == .revoked)

            // And another session holding the key's lock in a transaction that lasts
            let holder = Task {
                try await PostgresTestDatabase.query(
                    PostgresQuery(
                        unsafeSQL: """
                            DO $$ BEGIN
                              PERFORM lock_token_key(\(AdvisoryLock.tokenKeyClass), 'app', 'user', 'alice', 'openid');
                              PERFORM pg_sleep(30);
                            END $$
                            """), on: settings)
            }
            defer { holder.cancel() }
            var held = 0
            for _ in 0..<3000 where held == 0 {
                held = try await heldAdvisoryLocks(settings)
                if held == 0 { try await Task.sleep(for: .milliseconds(10)) }
            }
            try #require(held == 1, "the other session never took the key's lock")

            // When the revoked token is presented
            let outcome = try await store.refresh(digest: refresh.digest, at: 3000) { presented in
                presented?.state == .revoked ? .refuse(.invalidGrant) : .refuse(.serverError)
            }

            // Then it is refused while the lock is still held: the refusal did not wait for it
            #expect(outcome == .refused(.invalidGrant))
            #expect(try await heldAdvisoryLocks(settings) == 1)
            _ = try await PostgresTestDatabase.query(
                PostgresQuery(unsafeSQL: "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE \(Self.keyLocks)"), on: settings)
        }
    }

    /// The token-key locks granted in this test's database: pg_locks shows the whole
    /// cluster's, other tests' databases included.
    private static let keyLocks = """
        locktype = 'advisory' AND granted AND classid::bigint = \(AdvisoryLock.tokenKeyClass)
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """

    private func heldAdvisoryLocks(_ settings: PostgreSQLSettings) async throws -> Int {
        try await PostgresTestDatabase.value(
            Int.self, PostgresQuery(unsafeSQL: "SELECT count(*)::bigint FROM pg_locks WHERE \(Self.keyLocks)"), on: settings)
            ?? 0
    }
}
