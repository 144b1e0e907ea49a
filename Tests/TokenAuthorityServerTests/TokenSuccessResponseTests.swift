import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-endpoint.md, "Success": a 200 answer has exactly the seed's members, and both client
/// authentication methods of RFC 6749 §2.3.1 work.
@Suite("Token endpoint: successful answers")
struct TokenSuccessResponseTests {
    @Test("password grant: access_token, refresh_token, scope, token_type Bearer, expires_in")
    func passwordGrantShape() async throws {
        try await TestServer.with { server in
            // Given a client and a user
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")

            // When the user's password is exchanged for a token
            let reply = try await server.passwordGrant(client, username: "alice", password: "wonderland", scope: "somescope")

            // Then the answer has exactly the seed's members and one ACTIVE row holds it
            expectTokenResponse(reply, withRefreshToken: true, scope: "somescope", expiresIn: 3600)
            #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(try await server.count(
                "SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND subject_type = 'user' AND subject = 'alice' AND grant_type = 'password' AND scope = 'somescope'"
            ) == 1)
            #expect(try await server.count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 1)
        }
    }

    @Test("client_credentials grant: no refresh_token")
    func clientCredentialsShape() async throws {
        try await TestServer.with { server in
            // Given a client
            let client = try await server.client("machine")

            // When it asks for a token for itself
            let reply = try await server.clientCredentialsGrant(client, scope: "reports")

            // Then the answer has no refresh_token, and no refresh token row exists
            expectTokenResponse(reply, withRefreshToken: false, scope: "reports", expiresIn: 3600)
            #expect(try await server.count(
                "SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE' AND subject_type = 'client' AND subject = 'machine' AND grant_type = 'client_credentials' AND refresh_token_id IS NULL"
            ) == 1)
            #expect(try await server.count("SELECT count(*) FROM refresh_tokens") == 0)
        }
    }

    @Test("no scope parameter: the scope default")
    func noScopeMeansDefault() async throws {
        try await TestServer.with { server in
            // Given a client
            let client = try await server.client("machine")

            // When it asks for a token without a scope
            let reply = try await server.clientCredentialsGrant(client)

            // Then it is granted the scope default
            expectTokenResponse(reply, withRefreshToken: false, scope: "default")
        }
    }

    @Test("client_secret_post: id and secret in the body")
    func clientSecretPost() async throws {
        try await TestServer.with { server in
            // Given a client and a user
            let client = try await server.client("app")
            try await server.user("alice", password: "wonderland")

            // When it authenticates in the body, for either grant
            let password = try await server.token([
                ("grant_type", "password"), ("username", "alice"), ("password", "wonderland"),
                ("client_id", client.clientID), ("client_secret", client.secret ?? ""),
            ])
            let clientCredentials = try await server.token([
                ("client_id", client.clientID), ("client_secret", client.secret ?? ""), ("grant_type", "client_credentials"),
            ])

            // Then both succeed
            expectTokenResponse(password, withRefreshToken: true)
            expectTokenResponse(clientCredentials, withRefreshToken: false)
        }
    }

    @Test("Basic credentials are form-decoded (RFC 6749 §2.3.1)")
    func basicCredentialsAreFormDecoded() async throws {
        try await TestServer.with { server in
            // Given a client whose id needs form-encoding
            let client = try await server.client("my client+id")

            // When it sends Basic base64("my+client%2Bid:" + encoded secret)
            let encoded = Form.basic(raw: "my+client%2Bid:\(Form.component(client.secret ?? ""))")
            let reply = try await server.postToken(body: "grant_type=client_credentials", authorization: encoded)

            // Then it is authenticated as "my client+id"
            expectTokenResponse(reply, withRefreshToken: false)
            #expect(try await server.count(
                "SELECT count(*) FROM access_tokens WHERE client_id = 'my client+id' AND state = 'ACTIVE'") == 1)
        }
    }

    @Test("a client id holding a colon is sent encoded as %3A inside Basic")
    func basicClientIDWithColon() async throws {
        try await TestServer.with { server in
            // Given a client "urn:example:app"
            let client = try await server.client("urn:example:app")

            // When it sends Basic base64("urn%3Aexample%3Aapp:" + secret)
            let reply = try await server.clientCredentialsGrant(client)

            // Then the first raw colon separates id and secret, and the id decodes back
            expectTokenResponse(reply, withRefreshToken: false)

            // And sent unencoded, the id would end at its first colon ("urn"), which is unknown
            let unencoded = try await server.postToken(
                body: "grant_type=client_credentials",
                authorization: Form.basic(raw: "urn:example:app:\(try #require(client.secret))"))
            expectOAuthError(unencoded, status: 401, error: "invalid_client")
        }
    }

    @Test("Basic credentials sent unencoded are decoded too: '+' is a space")
    func basicCredentialsUnencodedPlusIsSpace() async throws {
        try await TestServer.with { server in
            // Given a client "my client+id"
            let client = try await server.client("my client+id")

            // When it sends its id without form-encoding it, so "+" reads as a space
            let raw = Form.basic(raw: "my client+id:\(try #require(client.secret))")
            let reply = try await server.postToken(body: "grant_type=client_credentials", authorization: raw)

            // Then the id decodes to "my client id", which is unknown
            expectOAuthError(reply, status: 401, error: "invalid_client")
        }
    }

    @Test("a secret with reserved characters is form-decoded from Basic")
    func basicSecretIsFormDecoded() async throws {
        try await TestServer.with { server in
            // Given a client registered with a secret holding ':', '+', '%' and a space
            let secret = "s3cret:with+plus %percent and more padding"
            try await server.services.store.createClient(
                Client(
                    clientID: "odd", name: "odd", secretDigest: ClientSecret.digest(secret),
                    grantTypes: [.clientCredentials], scopes: nil, tokenFormat: .opaque, mayIntrospect: false,
                    createdAt: 0))

            // When it authenticates with the secret form-encoded inside Basic
            let reply = try await server.clientCredentialsGrant(ClientCredentials(clientID: "odd", secret: secret))

            // Then it gets a token
            expectTokenResponse(reply, withRefreshToken: false)
        }
    }

    @Test("charset parameter on the content type is accepted")
    func contentTypeWithCharset() async throws {
        try await TestServer.with { server in
            // Given a client
            let client = try await server.client("app")

            // When the content type carries a charset and other casing
            let reply = try await server.postToken(
                body: "grant_type=client_credentials", authorization: Form.basic(client),
                contentType: "Application/X-WWW-Form-Urlencoded; charset=UTF-8")

            // Then the form is read
            expectTokenResponse(reply, withRefreshToken: false)
        }
    }
}
