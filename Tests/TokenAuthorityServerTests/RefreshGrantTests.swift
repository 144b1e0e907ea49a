import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-renewal.md, "The refresh grant", and RFC 9700 §4.14.2 through the token endpoint.
@Suite("Refresh grant: rotation, scope, replay")
struct RefreshGrantTests {
    func refresh(
        _ server: TestServer, _ client: ClientCredentials, _ token: String?, scope: String? = nil
    ) async throws -> HTTPReply {
        var parameters = [("grant_type", "refresh_token"), ("refresh_token", token ?? "")]
        if let scope { parameters.append(("scope", scope)) }
        return try await server.token(parameters, basic: client)
    }

    @Test("a refresh issues a new access token and rotates the refresh token; the old rows are INACTIVE")
    func rotation() async throws {
        try await TestServer.with { server in
            // Given alice's pair
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "read write")
            server.clock.advance(seconds: 100)
            // When she refreshes
            let second = try await refresh(server, client, first.refreshToken)
            // Then a new pair with the original scope and a full validity
            expectTokenResponse(second, withRefreshToken: true, expiresIn: 3600)
            #expect(second.accessToken != first.accessToken)
            #expect(second.refreshToken != first.refreshToken)
            #expect(second.scope == "read write")
            #expect(try await server.accessTokenStates() == ["INACTIVE", "ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["INACTIVE", "ACTIVE"])
            #expect(try await server.count("SELECT count(DISTINCT family_id) FROM access_tokens") == 1)
            // And the answer's refresh token is the one stored: it refreshes in turn
            let third = try await refresh(server, client, second.refreshToken)
            #expect(third.status == 200 && third.refreshToken != second.refreshToken)
        }
    }

    @Test("renew_refresh_token = false keeps the same refresh token")
    func noRotation() async throws {
        try await TestServer.with({ $0.oauth.renewRefreshToken = false }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            let second = try await refresh(server, client, first.refreshToken)
            let third = try await refresh(server, client, first.refreshToken)
            #expect(second.status == 200 && third.status == 200)
            #expect(second.refreshToken == first.refreshToken && third.refreshToken == first.refreshToken)
            #expect(Set([first.accessToken, second.accessToken, third.accessToken]).count == 3)
            #expect(try await server.accessTokenStates() == ["INACTIVE", "INACTIVE", "ACTIVE"])
        }
    }

    @Test("extend_refresh_token_expiry_time_on_renewal = false keeps the old expiry")
    func noExtension() async throws {
        try await TestServer.with({ $0.oauth.extendRefreshTokenExpiryTimeOnRenewal = false }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            server.clock.advance(seconds: 500)
            let second = try await refresh(server, client, first.refreshToken)
            #expect(second.status == 200)
            let expiries = try await server.count("SELECT count(DISTINCT expires_at) FROM refresh_tokens")
            #expect(expiries == 1)
        }
    }

    @Test("a subset of the scope narrows the key; anything else is invalid_scope and changes nothing")
    func narrowing() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "read write")
            let wider = try await refresh(server, client, first.refreshToken, scope: "read admin")
            expectOAuthError(wider, status: 400, error: "invalid_scope")
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
            let narrowed = try await refresh(server, client, first.refreshToken, scope: "read")
            #expect(narrowed.status == 200)
            #expect(narrowed.scope == "read")
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND scope = 'read'") == 1)
        }
    }

    @Test("unknown, revoked, expired and another client's refresh tokens are invalid_grant")
    func refused() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            let other = try await server.client("other")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            expectOAuthError(try await refresh(server, client, "no-such-token"), status: 400, error: "invalid_grant")
            expectOAuthError(try await refresh(server, other, first.refreshToken), status: 400, error: "invalid_grant")
            expectOAuthError(try await refresh(server, client, nil), status: 400, error: "invalid_request")
            // Another client's attempt changed nothing: the token still works for its own client
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
            server.clock.advance(seconds: 86400)
            let expired = try await refresh(server, client, first.refreshToken)
            expectOAuthError(expired, status: 400, error: "invalid_grant")
            #expect(expired.json?["error_description"]?.string == "Refresh token is expired.")
        }
    }

    @Test("replaying a rotated refresh token revokes every ACTIVE token of its family")
    func replay() async throws {
        try await TestServer.with { server in
            // Given a pair refreshed once, and another grant of alice's outside this family
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            let unrelated = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "device_ipad")
            let second = try await refresh(server, client, first.refreshToken)
            #expect(second.status == 200)
            // When the first refresh token is presented again
            let replayed = try await refresh(server, client, first.refreshToken)
            // Then it is invalid_grant, the family's tokens are REVOKED, the other grant untouched
            expectOAuthError(replayed, status: 400, error: "invalid_grant")
            let familyActive = try await server.count(
                "SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND scope = 'default'")
            #expect(familyActive == 0)
            #expect(try await server.count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE' AND scope = 'default'") == 0)
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND scope = 'device_ipad'") == 1)
            #expect(unrelated.status == 200)
            // And the stolen line is dead: the second refresh token no longer works either
            expectOAuthError(try await refresh(server, client, second.refreshToken), status: 400, error: "invalid_grant")
        }
    }

    @Test("two simultaneous refreshes with one refresh token: exactly one succeeds")
    func simultaneous() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            async let a = refresh(server, client, first.refreshToken)
            async let b = refresh(server, client, first.refreshToken)
            let statuses = [try await a.status, try await b.status]
            #expect(statuses.filter { $0 == 200 }.count == 1)
            #expect(statuses.filter { $0 == 400 }.count == 1)
        }
    }

    @Test("a client without the refresh_token grant is unauthorized_client")
    func notEnabled() async throws {
        try await TestServer.with { server in
            let client = try await server.client("app", grantTypes: [.password])
            try await server.user("alice", password: "pw")
            let first = try await server.passwordGrant(client, username: "alice", password: "pw")
            expectOAuthError(try await refresh(server, client, first.refreshToken), status: 400, error: "unauthorized_client")
        }
    }
}
