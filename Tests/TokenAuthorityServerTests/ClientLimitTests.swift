import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "Abuse resistance (`[security]`)", `[security.client_limits]`: optional per-client
/// request limits on the token and introspection endpoints, answered 429 with `Retry-After`.
@Suite("Per-client request limits")
struct ClientLimitTests {
    @Test("Over the bucket, the token endpoint answers 429 too_many_requests with Retry-After; it refills with time")
    func tokenEndpoint() async throws {
        try await TestServer.with({
            $0.security.clientLimits.requestsPerSecond = 1
            $0.security.clientLimits.burst = 3
        }) { server in
            // Given a client that spent its burst of 3
            let client = try await server.client()
            for _ in 0..<3 { #expect(try await server.clientCredentialsGrant(client).status == 200) }

            // When it asks again at once
            let refused = try await server.clientCredentialsGrant(client)

            // Then 429, an OAuth error body, Retry-After of a second, never cached
            expectOAuthError(refused, status: 429, error: "too_many_requests")
            #expect(refused.header("Retry-After") == "1")

            // And another client is not affected
            #expect(try await server.clientCredentialsGrant(try await server.client()).status == 200)

            // And after a second the client may go on
            server.clock.advance(seconds: 1)
            #expect(try await server.clientCredentialsGrant(client).status == 200)
        }
    }

    @Test("Only an authenticated client spends from its bucket: wrong secrets do not use it up")
    func onlyAuthenticated() async throws {
        try await TestServer.with({ $0.security.clientLimits.requestsPerSecond = 1 }) { server in
            let client = try await server.client()
            let impostor = ClientCredentials(clientID: client.clientID, secret: "wrong")
            for _ in 0..<5 { #expect(try await server.clientCredentialsGrant(impostor).status == 401) }
            #expect(try await server.clientCredentialsGrant(client).status == 200)
        }
    }

    @Test("The introspection endpoint is limited per caller")
    func introspection() async throws {
        try await TestServer.with({ $0.security.clientLimits.requestsPerSecond = 2 }) { server in
            let resourceServer = try await server.client(mayIntrospect: true)
            let token = try #require(try await server.clientCredentialsGrant(try await server.client()).accessToken)
            for _ in 0..<2 { #expect(try await server.introspect(token, as: Form.basic(resourceServer)).status == 200) }
            let refused = try await server.introspect(token, as: Form.basic(resourceServer))
            expectOAuthError(refused, status: 429, error: "too_many_requests")
            #expect(refused.header("Retry-After") == "1")
        }
    }

    @Test("Off by default: 50 requests in the same instant all succeed")
    func offByDefault() async throws {
        try await TestServer.with { server in
            let client = try await server.client()
            for _ in 0..<50 { #expect(try await server.clientCredentialsGrant(client).status == 200) }
        }
    }
}
