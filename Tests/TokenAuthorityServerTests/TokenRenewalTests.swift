import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-renewal.md, `renew_access_token_per_request = true`: every request revokes the
/// key's ACTIVE pair and issues a new one; `device_` scopes keep keys apart.
@Suite("Token semantics: renewal per request and device scopes")
struct TokenRenewalTests {
    @Test("renewal: a new pair each time, the old rows REVOKED, exactly one ACTIVE")
    func renewalPerRequest() async throws {
        try await TestServer.with({ $0.oauth.renewAccessTokenPerRequest = true }) { server in
            // Given renewal per request, a client and alice
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")

            // When she asks three times
            var replies: [HTTPReply] = []
            for _ in 0..<3 {
                replies.append(try await server.passwordGrant(client, username: "alice", password: "wonderland"))
                server.clock.advance(seconds: 1)
            }

            // Then every answer is a distinct full pair
            for reply in replies { expectTokenResponse(reply, withRefreshToken: true, expiresIn: 3600) }
            #expect(Set(replies.compactMap(\.accessToken)).count == 3)
            #expect(Set(replies.compactMap(\.refreshToken)).count == 3)
            // and the earlier access and refresh rows are REVOKED, the last ACTIVE
            #expect(try await server.accessTokenStates() == ["REVOKED", "REVOKED", "ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["REVOKED", "REVOKED", "ACTIVE"])
        }
    }

    @Test("renewal for client_credentials: a new token each time, the old one REVOKED")
    func renewalForClientCredentials() async throws {
        try await TestServer.with({ $0.oauth.renewAccessTokenPerRequest = true }) { server in
            // Given renewal per request and a client
            let client = try await server.client("machine")

            // When it asks twice
            let first = try await server.clientCredentialsGrant(client)
            let second = try await server.clientCredentialsGrant(client)

            // Then the tokens differ and only the second is ACTIVE
            expectTokenResponse(second, withRefreshToken: false)
            #expect(first.accessToken != second.accessToken)
            #expect(try await server.accessTokenStates() == ["REVOKED", "ACTIVE"])
        }
    }

    @Test("device_ipad and device_iphone: different tokens, both ACTIVE")
    func deviceScopesAreSeparateKeys() async throws {
        try await TestServer.with { server in
            // Given a client with a scope list that names no device scope, and alice
            let client = try await server.client("app", scopes: ["profile"])
            try await server.user("alice", password: "wonderland")

            // When she asks from her iPad and her iPhone
            let ipad = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "device_ipad")
            let iphone = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "device_iphone")

            // Then each device has its own granted scope and its own pair
            expectTokenResponse(ipad, withRefreshToken: true, scope: "device_ipad")
            expectTokenResponse(iphone, withRefreshToken: true, scope: "device_iphone")
            #expect(ipad.accessToken != iphone.accessToken)
            #expect(ipad.refreshToken != iphone.refreshToken)
            #expect(try await server.accessTokenStates() == ["ACTIVE", "ACTIVE"])
        }
    }

    @Test("renewal for one device leaves the other device's token ACTIVE")
    func renewalForOneDeviceLeavesTheOther() async throws {
        try await TestServer.with({ $0.oauth.renewAccessTokenPerRequest = true }) { server in
            // Given renewal per request and alice's tokens on her iPad and iPhone
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")
            let iphone = try await server.passwordGrant(
                client, username: "alice", password: "wonderland", scope: "openid device_iphone")
            _ = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "openid device_ipad")

            // When the iPad asks again
            let ipadAgain = try await server.passwordGrant(
                client, username: "alice", password: "wonderland", scope: "device_ipad openid")

            // Then only the iPad's first token was revoked; the iPhone's stays ACTIVE
            expectTokenResponse(ipadAgain, withRefreshToken: true, scope: "device_ipad openid")
            #expect(try await server.accessTokenStates() == ["ACTIVE", "REVOKED", "ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["ACTIVE", "REVOKED", "ACTIVE"])
            #expect(try await server.count(
                "SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND scope = 'device_iphone openid'") == 1)
            #expect(iphone.accessToken != ipadAgain.accessToken)
        }
    }
}
