import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-renewal.md, `renew_access_token_per_request = false` (the default): the same key
/// gets the same tokens back while they live, and an expired access token is
/// replaced with the refresh token carried over or renewed.
@Suite("Token semantics: reuse and expiry")
struct TokenReuseTests {
    @Test("reuse: the same pair, expires_in the remaining seconds truncated")
    func reuseReturnsTheSamePair() async throws {
        try await TestServer.with { server in
            // Given a token issued to alice
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")
            let first = try await server.passwordGrant(client, username: "alice", password: "wonderland")
            expectTokenResponse(first, withRefreshToken: true, expiresIn: 3600)

            // When she asks again 10.5 s later
            server.clock.advance(seconds: 10.5)
            let second = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // Then she gets the same pair with 3589 s left, and nothing new was stored
            expectTokenResponse(second, withRefreshToken: true, expiresIn: 3589)
            #expect(second.accessToken == first.accessToken)
            #expect(second.refreshToken == first.refreshToken)
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["ACTIVE"])
        }
    }

    @Test("reuse for client_credentials")
    func reuseForClientCredentials() async throws {
        try await TestServer.with { server in
            // Given a client_credentials token
            let client = try await server.client("machine")
            let first = try await server.clientCredentialsGrant(client)

            // When the client asks again 59.9 s later
            server.clock.advance(seconds: 59.9)
            let second = try await server.clientCredentialsGrant(client)

            // Then it gets the same token with 3540 s left
            expectTokenResponse(second, withRefreshToken: false, expiresIn: 3540)
            #expect(second.accessToken == first.accessToken)
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
        }
    }

    @Test("an access token with just over 1 s left is reused; with 1 s left it counts as expired")
    func accessTokenExpiryMargin() async throws {
        try await TestServer.with { server in
            // Given a client_credentials token valid for 3600 s
            let client = try await server.client("machine")
            let first = try await server.clientCredentialsGrant(client)

            // When the client asks with 1.001 s left
            server.clock.advance(seconds: 3598.999)
            let nearlyExpired = try await server.clientCredentialsGrant(client)
            // Then the token is reused with expires_in 1
            expectTokenResponse(nearlyExpired, withRefreshToken: false, expiresIn: 1)
            #expect(nearlyExpired.accessToken == first.accessToken)

            // When it asks with 1 s left
            server.clock.advance(seconds: 0.001)
            let replaced = try await server.clientCredentialsGrant(client)
            // Then a new token is issued and the old row is EXPIRED
            expectTokenResponse(replaced, withRefreshToken: false, expiresIn: 3600)
            #expect(replaced.accessToken != first.accessToken)
            #expect(try await server.accessTokenStates() == ["EXPIRED", "ACTIVE"])
        }
    }

    @Test("expired access token: a new access token, the refresh token carried over")
    func expiredAccessTokenCarriesTheRefreshTokenOver() async throws {
        try await TestServer.with { server in
            // Given alice's pair, with a refresh token valid for 1 day
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")
            let first = try await server.passwordGrant(client, username: "alice", password: "wonderland")
            let refreshBefore = try await refreshRow(server)

            // When she asks after the access token has expired
            server.clock.advance(seconds: 3601)
            let second = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // Then she gets a new access token with the same refresh token (same value, issue time and validity)
            expectTokenResponse(second, withRefreshToken: true, expiresIn: 3600)
            #expect(second.accessToken != first.accessToken)
            #expect(second.refreshToken == first.refreshToken)
            #expect(try await server.accessTokenStates() == ["EXPIRED", "ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["ACTIVE"])
            #expect(try await refreshRow(server) == refreshBefore)
            #expect(try await server.count(
                "SELECT count(DISTINCT refresh_token_id) FROM access_tokens WHERE refresh_token_id IS NOT NULL") == 1)
        }
    }

    @Test("expired access token: a new refresh token when the old one would not outlive the new access token")
    func expiredAccessTokenRenewsAShortRefreshToken() async throws {
        // Given refresh tokens valid for 2 h and user access tokens for 1 h
        try await TestServer.with({ $0.oauth.refreshTokenValidity = 7200 }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")
            let first = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // When she asks exactly when the access token expires (refresh: 3600 s left, not more than 3600)
            server.clock.advance(seconds: 3600)
            let second = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // Then both tokens are new, and only the new ones are ACTIVE
            expectTokenResponse(second, withRefreshToken: true, expiresIn: 3600)
            #expect(second.accessToken != first.accessToken)
            #expect(second.refreshToken != first.refreshToken)
            #expect(try await server.accessTokenStates() == ["EXPIRED", "ACTIVE"])
            #expect(try await server.refreshTokenStates().filter { $0 == "ACTIVE" }.count == 1)
            #expect(try await server.refreshTokenStates().last == "ACTIVE")
        }
    }

    @Test("expired access token: the refresh token is carried over when it has just more left than a new access token")
    func carryOverBoundary() async throws {
        // Given refresh tokens valid for 2 h and user access tokens for 1 h
        try await TestServer.with({ $0.oauth.refreshTokenValidity = 7200 }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")
            let first = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // When she asks with the access token at 0.5 s left (expired) and the refresh token at 3600.5 s
            server.clock.advance(seconds: 3599.5)
            let second = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // Then the access token is new and the refresh token carried over
            expectTokenResponse(second, withRefreshToken: true, expiresIn: 3600)
            #expect(second.accessToken != first.accessToken)
            #expect(second.refreshToken == first.refreshToken)
            #expect(try await server.refreshTokenStates() == ["ACTIVE"])
        }
    }

    @Test("a refresh token with 1 s or less left counts as expired: a new pair")
    func refreshTokenExpiryMargin() async throws {
        // Given refresh tokens valid for 100 s, shorter than the 1 h access tokens
        try await TestServer.with({ $0.oauth.refreshTokenValidity = 100 }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")
            let first = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // When she asks with 1.001 s left on the refresh token
            server.clock.advance(seconds: 98.999)
            let reused = try await server.passwordGrant(client, username: "alice", password: "wonderland")
            // Then the pair is reused
            #expect(reused.accessToken == first.accessToken)
            #expect(reused.refreshToken == first.refreshToken)

            // When she asks with 1 s left on the refresh token (the access token still has an hour)
            server.clock.advance(seconds: 0.001)
            let renewed = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // Then she gets a new pair and the old access row is no longer ACTIVE
            expectTokenResponse(renewed, withRefreshToken: true, expiresIn: 3600)
            #expect(renewed.accessToken != first.accessToken)
            #expect(renewed.refreshToken != first.refreshToken)
            #expect(try await server.accessTokenStates() == ["EXPIRED", "ACTIVE"])
            #expect(try await server.refreshTokenStates().filter { $0 == "ACTIVE" }.count == 1)
        }
    }

    /// The refresh token row's (issued_at, expires_at).
    private func refreshRow(_ server: TestServer) async throws -> [Int64] {
        try await server.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT issued_at, expires_at FROM refresh_tokens")
            return [row?["issued_at"] ?? 0, row?["expires_at"] ?? 0]
        }
    }
}
