import Foundation
import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// docs/storage.md, "Deleting users and clients", on PostgreSQL: deleting a user or a
/// client can find the rows that go with it through indexes, its trigger and cascades
/// included. With sequential scans priced out (`enable_seqscan = off`), PostgreSQL
/// still reads a table whole only where no index serves, and counts it in
/// `pg_stat_xact_user_tables`.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresDeletionTests {
    @Test func deletingAUserReadsNoTableWhole() async throws {
        let scanned = try await tablesReadWhole(by: "DELETE FROM users WHERE username = 'bob'")
        #expect(scanned == [])
    }

    @Test func deletingAClientReadsNoTableWhole() async throws {
        let scanned = try await tablesReadWhole(by: "DELETE FROM clients WHERE client_id = 'web'")
        #expect(scanned == [])
    }

    @Test func theUsersTokensAreLookedUpByTheirWholeKeyPrefix() async throws {
        // An index scan on subject_type and subject alone reads access_tokens_by_key whole
        // (it leads with client_id): each of the trigger's DELETEs must constrain client_id too
        let plans = try await TestStore.withStore { _, settings in
            let body = try #require(
                try await PostgresTestDatabase.value(
                    String.self, "SELECT pg_get_functiondef('users_delete_tokens'::regproc)", on: settings))
            let deletes = body.split(separator: ";").compactMap { part in
                part.range(of: "DELETE FROM").map { String(part[$0.lowerBound...]) }
            }
            #expect(deletes.count == 2)
            var plans: [String] = []
            for delete in deletes {
                let sql = "EXPLAIN " + delete.replacingOccurrences(of: "OLD.username", with: "'bob'")
                let lines = try await PostgresTestDatabase.query(PostgresQuery(unsafeSQL: sql), on: settings)
                plans.append(try lines.map { try $0.decode(String.self) }.joined(separator: "\n"))
            }
            return plans
        }
        for plan in plans {
            let condition = plan.split(separator: "\n").first { $0.contains("Index Cond:") } ?? ""
            #expect(condition.contains("client_id = ANY"), "\(plan)")
        }
    }

    /// Runs `statement` on a fresh connection (so no plan is cached yet) in a database
    /// holding two clients and bob's rows under both, and names the tables it read whole.
    private func tablesReadWhole(by statement: String) async throws -> [String] {
        try await TestStore.withStore { store, settings in
            for client in ["app", "web"] { try await Fixtures.registerClient(in: store, id: client) }
            for user in ["alice", "bob"] { try await Fixtures.registerUser(in: store, username: user, password: "pw") }
            try await PostgresTestDatabase.query(
                """
                WITH refresh AS (
                    INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                                                state, issued_at, expires_at, state_changed_at, family_id)
                    SELECT sha256(('r' || g)::bytea), '\\x00', CASE WHEN g % 2 = 0 THEN 'app' ELSE 'web' END,
                           'user', 'bob', 'openid', 'REVOKED', 0, 1, 0, g
                    FROM generate_series(1, 40) g
                    RETURNING id, client_id
                )
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                                           grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                SELECT sha256(('a' || id)::bytea), '\\x00', client_id, 'user', 'bob', 'openid', 'REVOKED', 'password',
                       0, 1, id, 0
                FROM refresh
                """, on: settings)
            try await PostgresTestDatabase.query(
                """
                WITH sessions AS (
                    INSERT INTO sessions (session_sha256, username, auth_time, created_at, expires_at)
                    SELECT sha256(('s' || g)::bytea), 'bob', 0, 0, 1 FROM generate_series(1, 40) g RETURNING id
                ), codes AS (
                    INSERT INTO authorization_codes (code_sha256, client_id, username, redirect_uri, scope, auth_time,
                                                     issued_at, expires_at)
                    SELECT sha256(('c' || g)::bytea), CASE WHEN g % 2 = 0 THEN 'app' ELSE 'web' END, 'bob',
                           'https://app.example/cb', 'openid', 0, 0, 1
                    FROM generate_series(1, 40) g RETURNING id
                )
                INSERT INTO device_authorizations (device_code_sha256, user_code_sha256, client_id, scope, status,
                                                   username, interval_seconds, issued_at, expires_at)
                SELECT sha256(('d' || g)::bytea), sha256(('u' || g)::bytea),
                       CASE WHEN g % 2 = 0 THEN 'app' ELSE 'web' END, 'openid', 'approved', 'bob', 5, 0, 1
                FROM generate_series(1, 40) g
                """, on: settings)
            return try await PostgresTestDatabase.withConnection(to: settings) { connection in
                let logger = PostgresTestDatabase.logger
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SET LOCAL enable_seqscan = off", logger: logger)
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                // The clients, listed for the token indexes' lookups, and client_changes' one row are read whole
                var scanned: [String] = []
                let rows = try await connection.query(
                    """
                    SELECT relname::text FROM pg_stat_xact_user_tables
                    WHERE seq_scan > 0 AND relname NOT IN ('clients', 'client_changes') ORDER BY 1
                    """, logger: logger)
                for try await name in rows.decode(String.self) { scanned.append(name) }
                try await connection.query("ROLLBACK", logger: logger)
                return scanned
            }
        }
    }
}
