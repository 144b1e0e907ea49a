import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "Abuse resistance (`[security]`)", `[security.account_locking]` (WSO2's account
/// locking): failed password logins lock the account for a while; a lock answers like a wrong
/// password.
@Suite("Account locking")
struct AccountLockingTests {
    private let wrongPassword = "not-the-password"

    private func lockRow(_ server: TestServer, _ username: String) async throws -> (attempts: Int, lockedUntil: Int64?) {
        try await server.read { db in
            let row = try #require(
                try Row.fetchOne(
                    db, sql: "SELECT failed_login_attempts, locked_until FROM users WHERE username = ?",
                    arguments: [username]))
            return (row["failed_login_attempts"], row["locked_until"])
        }
    }

    @Test("The 5th failure in a row locks the account; then even the right password answers like a wrong one")
    func locksAfterAllowedFailures() async throws {
        try await TestServer.with { server in
            // Given a user and the defaults (5 attempts, 5 minutes)
            let client = try await server.client()
            try await server.user("alice", password: "s3cret")
            let wrong = try await server.passwordGrant(client, username: "alice", password: wrongPassword)

            // When the password is wrong 5 times
            for _ in 0..<4 { _ = try await server.passwordGrant(client, username: "alice", password: wrongPassword) }
            #expect(try await lockRow(server, "alice").lockedUntil == server.clock.now + 300_000)

            // Then the right password gets exactly the wrong password's answer
            let locked = try await server.passwordGrant(client, username: "alice", password: "s3cret")
            expectOAuthError(locked, status: 400, error: "invalid_grant", description: "Authentication failed for alice")
            #expect(locked.body == wrong.body)
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
        }
    }

    @Test("The lock ends after auto_unlock_after, and failures during it do not extend it")
    func unlocksAfterDuration() async throws {
        try await TestServer.with({ $0.security.accountLocking.autoUnlockAfter = 60 }) { server in
            // Given an account locked a minute ago... almost
            let client = try await server.client()
            try await server.user("bob", password: "s3cret")
            for _ in 0..<5 { _ = try await server.passwordGrant(client, username: "bob", password: wrongPassword) }
            let lockedUntil = try #require(try await lockRow(server, "bob").lockedUntil)
            server.clock.advance(seconds: 59)
            _ = try await server.passwordGrant(client, username: "bob", password: wrongPassword)
            #expect(try await server.passwordGrant(client, username: "bob", password: "s3cret").status == 400)
            #expect(try await lockRow(server, "bob").lockedUntil == lockedUntil)

            // When the minute has passed
            server.clock.advance(seconds: 1)

            // Then the right password works, and the count starts from zero
            expectTokenResponse(
                try await server.passwordGrant(client, username: "bob", password: "s3cret"), withRefreshToken: true)
            #expect(try await lockRow(server, "bob").attempts == 0)
        }
    }

    @Test("A successful login forgets earlier failures")
    func successResetsCount() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            try await server.user("carol", password: "s3cret")
            // Given 4 failures, then a success
            for _ in 0..<4 { _ = try await server.passwordGrant(client, username: "carol", password: wrongPassword) }
            #expect(try await lockRow(server, "carol").attempts == 4)
            #expect(try await server.passwordGrant(client, username: "carol", password: "s3cret").status == 200)

            // When 4 more failures follow
            for _ in 0..<4 { _ = try await server.passwordGrant(client, username: "carol", password: wrongPassword) }

            // Then the account is not locked
            #expect(try await lockRow(server, "carol").lockedUntil == nil)
            #expect(try await server.passwordGrant(client, username: "carol", password: "s3cret").status == 200)
        }
    }

    @Test("Concurrent failures are all counted: the database counts and locks in one statement")
    func concurrentFailures() async throws {
        try await TestServer.with({ $0.security.accountLocking.allowedFailedAttempts = 8 }) { server in
            let client = try await server.client()
            try await server.user("dave", password: "s3cret")
            // When 7 wrong passwords arrive at once
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<7 {
                    group.addTask { _ = try await server.passwordGrant(client, username: "dave", password: wrongPassword) }
                }
                try await group.waitForAll()
            }
            // Then 7 are counted, and the 8th locks
            #expect(try await lockRow(server, "dave").attempts == 7)
            _ = try await server.passwordGrant(client, username: "dave", password: wrongPassword)
            let row = try await lockRow(server, "dave")
            #expect(row.attempts == 0 && row.lockedUntil == server.clock.now + 300_000)
        }
    }

    @Test("With enable = false nothing is counted or locked")
    func disabled() async throws {
        try await TestServer.with({ $0.security.accountLocking.enable = false }) { server in
            let client = try await server.client()
            try await server.user("erin", password: "s3cret")
            for _ in 0..<10 { _ = try await server.passwordGrant(client, username: "erin", password: wrongPassword) }
            let row = try await lockRow(server, "erin")
            #expect(row.attempts == 0 && row.lockedUntil == nil)
            #expect(try await server.passwordGrant(client, username: "erin", password: "s3cret").status == 200)
        }
    }

    @Test("The super admin locks too: introspection with its right password is then invalid_client")
    func superAdminLocks() async throws {
        try await TestServer.with { server in
            // Given the super admin (admin/admin) and a token to introspect
            _ = try await server.services.ensureSuperAdmin()
            let client = try await server.client()
            let token = try #require(try await server.clientCredentialsGrant(client).accessToken)
            #expect(try await server.introspect(token, as: admin).status == 200)

            // When its password is wrong 5 times at introspection
            for _ in 0..<5 {
                expectOAuthError(
                    try await server.introspect(token, as: Form.basic(raw: "admin:wrong")), status: 401,
                    error: "invalid_client")
            }

            // Then admin/admin is refused like a wrong password, at introspection and the password grant
            expectOAuthError(try await server.introspect(token, as: admin), status: 401, error: "invalid_client")
            expectOAuthError(
                try await server.passwordGrant(client, username: "admin", password: "admin"), status: 400,
                error: "invalid_grant")
        }
    }
}
