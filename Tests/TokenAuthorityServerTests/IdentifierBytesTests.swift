import Foundation
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// Identifiers are compared as bytes everywhere, as SQLite compares them
/// (README, "Security"). The pairs below are canonically equivalent, so Swift's
/// `String ==` calls them equal; they are registered straight in the store, as
/// rows made before the creation rules refused such names would be.
@Suite("Identifiers compare as bytes: Unicode look-alikes are other clients and users")
struct IdentifierBytesTests {
    /// `app-K` with a Latin K, and with U+212A KELVIN SIGN.
    static let latin = "app-K"
    static let kelvin = "app-\u{212A}"

    @Test("The look-alike client cannot refresh, revoke or share the other's tokens, nor spend its rate")
    func lookAlikeClients() async throws {
        #expect(Self.latin == Self.kelvin, "the premise: Swift calls them equal")
        try await TestServer.with({ $0.security.clientLimits.requestsPerSecond = 1 }) { server in
            // Given the two clients, and alice's tokens issued to the Latin one
            let owner = try await server.client(Self.latin)
            let twin = try await server.client(Self.kelvin)
            try await server.user("alice", password: "pw")
            let issued = try await server.passwordGrant(owner, username: "alice", password: "pw")
            let refreshToken = try #require(issued.refreshToken)
            let accessToken = try #require(issued.accessToken)

            // When, at once, the look-alike presents alice's refresh token, then revokes her access token
            let refreshed = try await server.token(
                [("grant_type", "refresh_token"), ("refresh_token", refreshToken)], basic: twin)
            let revoked = try await server.revoke(accessToken, by: twin)

            // Then the refresh is the unknown-token answer, not 429: the owner's request just now
            // emptied the owner's bucket (1 a second), and the look-alike has a bucket of its own
            #expect(refreshed.status == 400 && refreshed.json?["error"]?.string == "invalid_grant", "\(refreshed)")
            // And the revocation is refused, and nothing changed
            #expect(revoked.status == 400 && revoked.json?["error"]?.string == "unauthorized_client", "\(revoked)")
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["ACTIVE"])

            // And the owner may still refresh: the look-alike's attempt was no replay of its family
            server.clock.advance(seconds: 2)
            let ownRefresh = try await server.token(
                [("grant_type", "refresh_token"), ("refresh_token", refreshToken)], basic: owner)
            #expect(ownRefresh.status == 200, "\(ownRefresh)")

            // And each gets a client_credentials token of its own: (client, subject, scope) is another key
            server.clock.advance(seconds: 2)
            #expect(try await server.clientCredentialsGrant(owner).status == 200)
            #expect(try await server.clientCredentialsGrant(twin).status == 200)
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE subject_type = 'client'") == 2)
        }
    }

    @Test("Composed and decomposed josé are two users: each logs in with their own password only")
    func lookAlikeUsers() async throws {
        let composed = "jos\u{E9}"
        let decomposed = "jose\u{301}"
        #expect(composed == decomposed, "the premise: Swift calls them equal")
        try await TestServer.with { server in
            // Given both spellings as users with different passwords
            let client = try await server.client()
            try await server.user(composed, password: "composed-pw")
            try await server.user(decomposed, password: "decomposed-pw")

            // When each name is presented with the other's password, and with its own
            let crossed = try await server.passwordGrant(client, username: composed, password: "decomposed-pw")
            let own = try await server.passwordGrant(client, username: composed, password: "composed-pw")
            let otherOwn = try await server.passwordGrant(client, username: decomposed, password: "decomposed-pw")

            // Then only the own passwords log in, each to a token of its own
            #expect(crossed.status == 400 && crossed.json?["error"]?.string == "invalid_grant")
            #expect(own.status == 200 && otherOwn.status == 200)
            #expect(own.accessToken != otherOwn.accessToken)
            #expect(try await server.count("SELECT count(DISTINCT subject) FROM access_tokens") == 2)
        }
    }
}
