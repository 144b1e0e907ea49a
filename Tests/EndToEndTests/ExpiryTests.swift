import Foundation
import Testing
import TokenAuthorityTesting

// Reuse until expiry (docs/token-renewal.md, "Opaque access tokens"): once an access token has
// expired, the next request marks its row EXPIRED and gets a new access token; a user's refresh
// token, having more time left than a new access token's validity, is carried over.

@Suite("Expiry", .sharedServer { deploymentConfig(accessTokenValidity: "2s", database: $0) })
struct ExpiryTests {
    @Test("An expired client token is replaced and its row becomes EXPIRED")
    func clientTokenExpires() async throws {
        // Given access tokens valid for 2 s, and a client holding one
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let first = try await server.clientCredentials(client)
        #expect(first.status == 200, "\(first)")
        #expect((1...2).contains(try #require(first.int("expires_in"))))

        // When it asks again after the token has expired
        try await Task.sleep(for: .milliseconds(2500))
        let second = try await server.clientCredentials(client)

        // Then it gets a new token with a full validity, and the old row is EXPIRED
        #expect(second.status == 200, "\(second)")
        #expect(second.string("access_token") != first.string("access_token"))
        #expect(second.int("expires_in") == 2)
        let rows = try await server.deployment.tokens(of: client.id).sorted { $0.id < $1.id }
        #expect(rows.map(\.state) == ["EXPIRED", "ACTIVE"])
    }

    @Test("An expired user token is replaced and its refresh token carried over")
    func userTokenExpires() async throws {
        // Given access tokens valid for 2 s, refresh tokens for a day, and a user token
        let server = try sharedServer()
        let client = try await server.deployment.createClient()
        let first = try await server.passwordGrant(client, username: "admin", password: "admin")
        #expect(first.status == 200, "\(first)")

        // When the user asks again after the access token has expired
        try await Task.sleep(for: .milliseconds(2500))
        let second = try await server.passwordGrant(client, username: "admin", password: "admin")

        // Then a new access token comes with the same refresh token
        #expect(second.status == 200, "\(second)")
        #expect(second.string("access_token") != first.string("access_token"))
        #expect(second.string("refresh_token") == first.string("refresh_token"))
        // And the old row is EXPIRED, both rows sharing one refresh-token row
        let rows = try await server.deployment.tokens(of: client.id).sorted { $0.id < $1.id }
        #expect(rows.map(\.state) == ["EXPIRED", "ACTIVE"])
        #expect(rows.count == 2 && rows[0].refresh_token_id != nil && rows[0].refresh_token_id == rows[1].refresh_token_id)
    }
}
