import Crypto
import Foundation
import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/token-renewal.md, "JWT access tokens", RFC 9068: clients created with `--token-type jwt`
/// get a signed JWT, a new one on every request, the previous one revoked.
@Suite("JWT access tokens")
struct JWTAccessTokenTests {
    static let issuer = "https://tokens.example.com"
    static func configure(_ configuration: inout DeploymentConfiguration) {
        configuration.configuredIssuer = issuer
    }

    @Test("client_credentials: typ at+jwt, kid, ES256, and the RFC 9068 claims, verified against /oauth2/jwks")
    func clientCredentialsClaims() async throws {
        try await TestServer.with(Self.configure) { server in
            // Given a JWT client
            let client = try await server.client("app", format: .jwt)

            // When it asks for a token
            let reply = try await server.clientCredentialsGrant(client, scope: "read write")

            // Then the token response is the usual one, and the access token a JWT
            expectTokenResponse(reply, withRefreshToken: false, scope: "read write", expiresIn: 3600)
            let jwt = try DecodedJWT(try #require(reply.accessToken))
            #expect(jwt.header["typ"] == "at+jwt" && jwt.header["alg"] == "ES256")
            let keyID = try #require(try await server.services.store.currentSigningKeyID())
            #expect(jwt.header["kid"] == .string(keyID))
            let now = Int(server.clock.now / 1000)
            #expect(jwt.claims["iss"] == .string(Self.issuer))
            #expect(jwt.claims["sub"] == "app" && jwt.claims["aud"] == "app" && jwt.claims["client_id"] == "app")
            #expect(jwt.claims["scope"] == "read write")
            #expect(jwt.claims["iat"]?.int == now && jwt.claims["exp"]?.int == now + 3600)
            #expect(jwt.claims["jti"]?.string.map(TokenCipher.isOpaqueToken) == true)
            #expect(Set(jwt.claims.keys) == ["iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"])
            #expect(jwt.verifies(against: try await server.getJSON("/oauth2/jwks")))
        }
    }

    @Test("password grant: sub is the user; the refresh token is an opaque one")
    func passwordGrantSubject() async throws {
        try await TestServer.with(Self.configure) { server in
            let client = try await server.client("app", format: .jwt)
            try await server.user("alice", password: "pw")
            let reply = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "openid")
            expectTokenResponse(reply, withRefreshToken: true, scope: "openid", expiresIn: 3600)
            let jwt = try DecodedJWT(try #require(reply.accessToken))
            #expect(jwt.claims["sub"] == "alice" && jwt.claims["aud"] == "app" && jwt.claims["scope"] == "openid")
            #expect(TokenCipher.isOpaqueToken(try #require(reply.refreshToken)))
        }
    }

    @Test("the database keeps only the lookup key of 'jti:' + jti and the signing key's id, never the JWT")
    func onlyTheHashedTokenIDIsStored() async throws {
        try await TestServer.with(Self.configure) { server in
            let client = try await server.client("app", format: .jwt)
            let token = try #require(try await server.clientCredentialsGrant(client).accessToken)
            let jti = try #require(try DecodedJWT(token).claims["jti"]?.string)
            // The columns, not the Row: GRDB's asynchronous `read` wants a Sendable result.
            let fetched = try await server.read { db -> (Data, Data, String?)? in
                try Row.fetchOne(db, sql: "SELECT token_sha256, token_sealed, signing_key_id FROM access_tokens")
                    .map { ($0["token_sha256"], $0["token_sealed"], $0["signing_key_id"]) }
            }
            let (digest, sealed, signingKeyID) = try #require(fetched)
            #expect(digest == Data(TokenCipher.lookupKey(of: jti, domain: "jti:")))
            #expect(digest.suffix(26) == Data(SHA256.hash(data: Data("jti:\(jti)".utf8))).prefix(26))
            #expect(sealed.isEmpty)
            #expect(signingKeyID == (try await server.services.store.currentSigningKeyID()))
            #expect(try await server.count("SELECT count(*) FROM access_tokens_view WHERE token_format = 'jwt'") == 1)
        }
    }

    @Test(
        "a new JWT on every request, whatever renew_access_token_per_request says; the previous pair REVOKED",
        arguments: [false, true])
    func newTokenOnEveryRequest(renewPerRequest: Bool) async throws {
        try await TestServer.with({
            Self.configure(&$0)
            $0.oauth.renewAccessTokenPerRequest = renewPerRequest
        }) { server in
            // Given a JWT client and alice
            let client = try await server.client("app", format: .jwt, mayIntrospect: true)
            try await server.user("alice", password: "pw")

            // When she asks three times for the same key
            var tokens: [String] = []
            for _ in 0..<3 {
                let reply = try await server.passwordGrant(client, username: "alice", password: "pw")
                tokens.append(try #require(reply.accessToken))
            }

            // Then three distinct JWTs, the earlier pairs REVOKED, one ACTIVE
            #expect(Set(tokens).count == 3)
            #expect(try await server.accessTokenStates() == ["REVOKED", "REVOKED", "ACTIVE"])
            #expect(try await server.refreshTokenStates() == ["REVOKED", "REVOKED", "ACTIVE"])
            // and only the last one introspects active
            #expect(try await server.introspect(tokens[0], as: Form.basic(client)).body == #"{"active":false}"#)
            #expect(try await server.introspect(tokens[1], as: Form.basic(client)).body == #"{"active":false}"#)
            #expect(try await server.introspect(tokens[2], as: Form.basic(client))["active"] == .bool(true))
        }
    }

    @Test("16 simultaneous requests of a JWT client: 16 distinct JWTs, exactly one ACTIVE")
    func simultaneousRequests() async throws {
        try await TestServer.with(Self.configure) { server in
            let client = try await server.client("app", format: .jwt)
            let replies = try await withThrowingTaskGroup(of: HTTPReply.self) { group in
                for _ in 0..<16 { group.addTask { try await server.clientCredentialsGrant(client) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == 200 }, "\(replies.filter { $0.status != 200 })")
            #expect(Set(replies.compactMap(\.accessToken)).count == 16)
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'") == 15)
        }
    }

    @Test("opaque clients keep reuse beside JWT clients")
    func opaqueClientsStillReuse() async throws {
        try await TestServer.with(Self.configure) { server in
            let opaque = try await server.client("opaque-app")
            let first = try await server.clientCredentialsGrant(opaque).accessToken
            let second = try await server.clientCredentialsGrant(opaque).accessToken
            #expect(first != nil && first == second && first.map(TokenCipher.isOpaqueToken) == true)
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE signing_key_id IS NOT NULL") == 0)
        }
    }

    @Test("the refresh grant gives a JWT client a new JWT for the same user, narrowed when asked")
    func refreshGrant() async throws {
        try await TestServer.with(Self.configure) { server in
            // Given a JWT pair for alice with two scopes
            let client = try await server.client("app", format: .jwt, mayIntrospect: true)
            try await server.user("alice", password: "pw")
            let issued = try await server.passwordGrant(client, username: "alice", password: "pw", scope: "a b")
            server.clock.advance(seconds: 10)

            // When the client refreshes, narrowing to one scope
            let refreshed = try await server.token(
                [("grant_type", "refresh_token"), ("refresh_token", try #require(issued.refreshToken)), ("scope", "a")],
                basic: client)

            // Then the new access token is a verifiable JWT for alice with the narrowed scope
            expectTokenResponse(refreshed, withRefreshToken: true, scope: "a", expiresIn: 3600)
            let jwt = try DecodedJWT(try #require(refreshed.accessToken))
            #expect(jwt.claims["sub"] == "alice" && jwt.claims["scope"] == "a")
            #expect(jwt.claims["iat"]?.int == Int(server.clock.now / 1000))
            #expect(jwt.verifies(against: try await server.getJSON("/oauth2/jwks")))
            #expect(try await server.introspect(try #require(refreshed.accessToken), as: Form.basic(client))["active"] == .bool(true))
            #expect(try await server.introspect(try #require(issued.accessToken), as: Form.basic(client)).body == #"{"active":false}"#)
        }
    }

    @Test("an unknown refresh token presented by a JWT client is invalid_grant, and nothing is signed for it")
    func refreshWithUnknownToken() async throws {
        try await TestServer.with(Self.configure) { server in
            let client = try await server.client("app", format: .jwt)
            let reply = try await server.token(
                [("grant_type", "refresh_token"), ("refresh_token", TokenCipher.newToken())], basic: client)
            expectOAuthError(reply, status: 400, error: "invalid_grant")
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
        }
    }

    @Test("introspection shows a JWT's claims; revocation makes it inactive, durably REVOKED")
    func introspectAndRevoke() async throws {
        try await TestServer.with(Self.configure) { server in
            let client = try await server.client("app", format: .jwt)
            let token = try #require(try await server.clientCredentialsGrant(client, scope: "read").accessToken)

            let active = try await server.introspect(token, as: admin)
            #expect(active["active"] == .bool(true) && active["client_id"] == "app" && active["scope"] == "read")
            #expect(active["exp"]?.int == Int(server.clock.now / 1000) + 3600)

            let revoked = try await server.revoke(token, by: client)
            #expect(revoked.status == 200)
            #expect(try await server.introspect(token, as: admin).body == #"{"active":false}"#)
            #expect(try await server.accessTokenStates() == ["REVOKED"])
        }
    }

    @Test("a JWT naming an unknown kid, the first token a fresh server sees, is inactive; the server goes on")
    func unknownKeyIDFirst() async throws {
        try await TestServer.with(Self.configure) { server in
            // Given a token signed by a stranger's key under a kid this server never had
            let client = try await server.client("app", format: .jwt)
            let header = base64URLEncode(Data(#"{"alg":"ES256","typ":"at+jwt","kid":"attacker"}"#.utf8))
            let claims = base64URLEncode(Data(#"{"jti":"\#(TokenCipher.newToken())","sub":"app"}"#.utf8))
            let signature = try P256.Signing.PrivateKey().signature(for: Data("\(header).\(claims)".utf8))
            let forged = "\(header).\(claims).\(base64URLEncode(signature.rawRepresentation))"

            // When it is introspected and revoked first thing, twice within a second
            for _ in 0..<2 {
                #expect(try await server.introspect(forged, as: admin).body == #"{"active":false}"#)
                #expect(try await server.revoke(forged, by: client).status == 200)
            }

            // Then the server still issues and verifies genuine tokens
            let genuine = try #require(try await server.clientCredentialsGrant(client).accessToken)
            #expect(try await server.introspect(genuine, as: admin)["active"] == .bool(true))
        }
    }

    @Test("forgeries introspect inactive and revoke nothing: another key, alg none, a changed claim, the bare jti")
    func forgeriesAreNotTokens() async throws {
        try await TestServer.with(Self.configure) { server in
            // Given a genuine, ACTIVE JWT
            let client = try await server.client("app", format: .jwt)
            let genuine = try #require(try await server.clientCredentialsGrant(client, scope: "read").accessToken)
            let parts = genuine.split(separator: ".").map(String.init)
            let jti = try #require(try DecodedJWT(genuine).claims["jti"]?.string)

            // When an attacker presents tokens carrying the genuine kid and jti
            let otherKey = P256.Signing.PrivateKey()
            let resigned = parts[0] + "." + parts[1] + "."
                + base64URLEncode(try otherKey.signature(for: Data((parts[0] + "." + parts[1]).utf8)).rawRepresentation)
            let kid = try #require(try DecodedJWT(genuine).header["kid"]?.string)
            let noneHeader = base64URLEncode(Data(#"{"alg":"none","typ":"at+jwt","kid":"\#(kid)"}"#.utf8))
            let unsigned = noneHeader + "." + parts[1] + "."
            let payload = try #require(base64URLDecode(parts[1]))
            var claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            claims["scope"] = "admin"
            let widened = parts[0] + "." + base64URLEncode(try JSONSerialization.data(withJSONObject: claims)) + "." + parts[2]

            // Then none of them is active, and revoking them changes nothing
            for forgery in [resigned, unsigned, widened, jti, "jti:" + jti] {
                #expect(try await server.introspect(forgery, as: admin).body == #"{"active":false}"#, "\(forgery)")
                #expect(try await server.revoke(forgery, by: client).status == 200)
            }
            #expect(try await server.accessTokenStates() == ["ACTIVE"])
            #expect(try await server.introspect(genuine, as: admin)["active"] == .bool(true))
        }
    }
}
