import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-renewal.md, "The key" and "Scopes": a token belongs to (client, subject, canonical
/// scope set); scopes a client may not have are dropped, `allowed_scopes` are
/// always granted, and nothing left means `default`.
@Suite("Token semantics: keys and scopes")
struct TokenKeyAndScopeTests {
    @Test("scope order, repeats and extra spaces do not matter: 'b a a' is 'a b'")
    func scopeSetIsCanonical() async throws {
        try await TestServer.with { server in
            // Given a client and alice
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")

            // When she asks for "a b", then "b a a", then "  b   a "
            let first = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "a b")
            let second = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "b a a")
            let third = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "  b   a ")

            // Then all three are the same token, with the scope "a b"
            for reply in [first, second, third] { expectTokenResponse(reply, withRefreshToken: true, scope: "a b") }
            #expect(second.accessToken == first.accessToken)
            #expect(third.accessToken == first.accessToken)
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE scope = 'a b'") == 1)
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 1)
        }
    }

    @Test("different scope sets are different keys")
    func differentScopeSetsAreDifferentKeys() async throws {
        try await TestServer.with { server in
            // Given a client
            let client = try await server.client("machine")

            // When it asks for "a" and then "a b"
            let narrow = try await server.clientCredentialsGrant(client, scope: "a")
            let wide = try await server.clientCredentialsGrant(client, scope: "a b")

            // Then the tokens differ and both are ACTIVE
            #expect(narrow.accessToken != wide.accessToken)
            #expect(try await server.accessTokenStates() == ["ACTIVE", "ACTIVE"])
        }
    }

    @Test("a scope parameter of 4,096 bytes is granted; one byte more is invalid_scope and issues nothing")
    func scopeLengthIsBounded() async throws {
        try await TestServer.with { server in
            let client = try await server.client("machine")
            let longest = String(repeating: "a", count: ScopeSet.maximumParameterLength)
            let tooLong = try await server.clientCredentialsGrant(client, scope: longest + "b")
            expectOAuthError(tooLong, status: 400, error: "invalid_scope")
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
            let granted = try await server.clientCredentialsGrant(client, scope: longest)
            expectTokenResponse(granted, withRefreshToken: false, scope: longest)
        }
    }

    struct ScopeCase: Sendable, CustomTestStringConvertible {
        let requested: String
        let granted: String
        var testDescription: String { "'\(requested)' → '\(granted)'" }
    }

    @Test(
        "a client with a scope list: unlisted scopes are dropped, allowed_scopes always granted, nothing left is 'default'",
        arguments: [
            ScopeCase(requested: "read", granted: "read"),
            ScopeCase(requested: "write read", granted: "read write"),
            ScopeCase(requested: "read admin", granted: "read"),
            ScopeCase(requested: "admin", granted: "default"),
            ScopeCase(requested: "admin openid", granted: "openid"),
            ScopeCase(requested: "device_x", granted: "device_x"),
            ScopeCase(requested: "admin device_x openid read", granted: "device_x openid read"),
            ScopeCase(requested: "openidx xdevice_a", granted: "default"),
        ])
    func scopePolicyWithAClientScopeList(_ scopeCase: ScopeCase) async throws {
        try await TestServer.with { server in
            // Given a client allowed only "read" and "write", and alice
            let client = try await server.client("app", scopes: ["read", "write"])
            try await server.user("alice", password: "wonderland")

            // When she and the client ask for the scopes
            let user = try await server.passwordGrant(
                client, username: "alice", password: "wonderland", scope: scopeCase.requested)
            let app = try await server.clientCredentialsGrant(client, scope: scopeCase.requested)

            // Then both are granted exactly the policy's scope, and the rows are keyed by it
            expectTokenResponse(user, withRefreshToken: true, scope: scopeCase.granted)
            expectTokenResponse(app, withRefreshToken: false, scope: scopeCase.granted)
            #expect(try await server.count(
                "SELECT count(*) FROM access_tokens WHERE scope = ? AND state = 'ACTIVE'", [scopeCase.granted]) == 2)
        }
    }

    @Test("a client without a scope list is granted every scope")
    func clientWithoutScopeList() async throws {
        try await TestServer.with { server in
            // Given a client without a scope list
            let client = try await server.client("app")

            // When it asks for arbitrary scopes
            let reply = try await server.clientCredentialsGrant(client, scope: "zeta admin read")

            // Then all are granted, sorted
            expectTokenResponse(reply, withRefreshToken: false, scope: "admin read zeta")
        }
    }

    @Test("[oauth] allowed_scopes is what bypasses validation")
    func configuredAllowedScopes() async throws {
        // Given allowed_scopes = ["^internal_.*"] (so device_ and openid are ordinary scopes)
        try await TestServer.with({ $0.oauth.allowedScopes = ["^internal_.*"] }) { server in
            let client = try await server.client("app", scopes: ["read"])

            // When the client asks for a device scope, openid and an internal_ scope
            let reply = try await server.clientCredentialsGrant(client, scope: "device_x openid internal_audit read")

            // Then only the listed and the configured bypassing scopes are granted
            expectTokenResponse(reply, withRefreshToken: false, scope: "internal_audit read")
        }
    }

    @Test("a user named like a client never shares the client's client_credentials token")
    func userNamedLikeAClient() async throws {
        try await TestServer.with { server in
            // Given a client "shared" holding a client_credentials token, and a user also named "shared"
            let client = try await server.client("shared")
            try await server.user("shared", password: "wonderland")
            let appToken = try await server.clientCredentialsGrant(client, scope: "read")

            // When the user "shared" asks through that client for the same scope
            let userToken = try await server.passwordGrant(client, username: "shared", password: "wonderland", scope: "read")

            // Then the user gets a token of their own, and the client's stays ACTIVE
            expectTokenResponse(userToken, withRefreshToken: true, scope: "read")
            #expect(userToken.accessToken != appToken.accessToken)
            #expect(try await server.count(
                "SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND subject = 'shared' AND client_id = 'shared'") == 2)
            #expect(try await server.count(
                "SELECT count(DISTINCT subject_type) FROM access_tokens WHERE subject = 'shared'") == 2)

            // And asking again as the client returns the client's own token
            let appAgain = try await server.clientCredentialsGrant(client, scope: "read")
            #expect(appAgain.accessToken == appToken.accessToken)
        }
    }

    @Test("different users, or one user through different clients, get different tokens")
    func subjectsAndClientsAreKeys() async throws {
        try await TestServer.with { server in
            // Given two clients and two users
            let web = try await server.client("web")
            let mobile = try await server.client("mobile")
            try await server.user("alice", password: "wonderland")
            try await server.user("bob", password: "builder")

            // When alice asks through both clients and bob through one
            let aliceWeb = try await server.passwordGrant(web, username: "alice", password: "wonderland")
            let aliceMobile = try await server.passwordGrant(mobile, username: "alice", password: "wonderland")
            let bobWeb = try await server.passwordGrant(web, username: "bob", password: "builder")

            // Then there are three distinct tokens, all ACTIVE
            #expect(Set([aliceWeb, aliceMobile, bobWeb].compactMap(\.accessToken)).count == 3)
            #expect(try await server.accessTokenStates() == ["ACTIVE", "ACTIVE", "ACTIVE"])
        }
    }

    @Test("client_credentials uses app_access_token_validity, password user_access_token_validity")
    func validityPerGrant() async throws {
        // Given app tokens valid 10 min, user tokens 20 min and refresh tokens 5000 s
        try await TestServer.with({
            $0.oauth.appAccessTokenValidity = 600
            $0.oauth.userAccessTokenValidity = 1200
            $0.oauth.refreshTokenValidity = 5000
        }) { server in
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")

            // When a token is issued by each grant
            let app = try await server.clientCredentialsGrant(client)
            let user = try await server.passwordGrant(client, username: "alice", password: "wonderland")

            // Then each answer and each row carries its own validity
            expectTokenResponse(app, withRefreshToken: false, expiresIn: 600)
            expectTokenResponse(user, withRefreshToken: true, expiresIn: 1200)
            let lifetimes = try await server.read { db in
                try Row.fetchAll(db, sql: "SELECT subject_type, expires_at - issued_at AS lifetime FROM access_tokens")
                    .reduce(into: [String: Int64]()) { $0[$1["subject_type"]] = $1["lifetime"] }
            }
            #expect(lifetimes == ["client": 600_000, "user": 1_200_000])
            #expect(try await server.count(
                "SELECT count(*) FROM refresh_tokens WHERE expires_at - issued_at = 5000000") == 1)
        }
    }
}
