import Foundation
import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/browser-sign-in.md, "The code and its exchange" and "OpenID Connect", through the router.
@Suite("Browser sign-in: the code exchange, ID tokens and userinfo")
struct CodeExchangeTests {
    static func configure(_ configuration: inout DeploymentConfiguration) {
        configuration.configuredIssuer = "https://sso.example"
    }

    /// A code for alice, from a browser that signed in at `app`'s authorization URL.
    static func code(_ server: TestServer, _ app: App, scope: String = "openid", browser: Browser? = nil) async throws
        -> String
    {
        if try await server.services.store.user(named: "alice") == nil { try await server.user("alice", password: "pw") }
        let query = try await (browser ?? Browser(server)).signIn(app.authorizeURI(scope: scope))
        return try #require(query["code"])
    }

    @Test("the exchange answers the pair and an ID token: ES256 with the JWKS key, iss, sub, aud, exp, iat, auth_time, nonce, at_hash")
    func exchange() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let code = try await Self.code(server, app)
            let reply = try await server.exchange(code, app: app)
            #expect(reply.status == 200, "\(reply)")
            #expect(reply.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"])
            let idToken = try DecodedJWT(try #require(reply.string("id_token")))
            let jwks = try await server.send(uri: "/oauth2/jwks", method: .get)
            let keys = try #require(jwks.json)
            #expect(idToken.header["alg"] == "ES256" && idToken.verifies(against: keys))
            let claims = idToken.claims
            #expect(claims["iss"] == "https://sso.example" && claims["sub"] == "alice")
            #expect(claims["aud"] == .array([.string(app.client.clientID)]) || claims["aud"] == .string(app.client.clientID))
            #expect(claims["nonce"] == "n-1")
            let now = server.clock.now / 1000
            #expect(claims["iat"]?.int == Int(now) && claims["exp"]?.int == Int(now) + 3600)
            #expect(claims["auth_time"]?.int == Int(now))
            #expect(claims["at_hash"]?.string == IDTokenMinter.accessTokenHash(try #require(reply.accessToken)))
        }
    }

    @Test("a code presented again is invalid_grant and revokes what its exchange handed out")
    func replay() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let code = try await Self.code(server, app)
            let first = try await server.exchange(code, app: app)
            #expect(first.status == 200)
            let second = try await server.exchange(code, app: app)
            expectOAuthError(second, status: 400, error: "invalid_grant")
            #expect(try await server.accessTokenStates() == ["REVOKED"])
            #expect(try await server.refreshTokenStates() == ["REVOKED"])
            let userInfo = try await server.userInfo(try #require(first.accessToken))
            #expect(userInfo.status == 401)
        }
    }

    @Test(
        "a wrong or missing verifier, another redirect_uri, a verifier for a code without a challenge: invalid_grant, and the code is spent",
        arguments: ["wrong", "missing", "redirect"])
    func refusedExchanges(_ mistake: String) async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let code = try await Self.code(server, app)
            let refused =
                switch mistake {
                case "wrong": try await server.exchange(code, app: app, verifier: App(client: app.client).verifier)
                case "missing": try await server.exchange(code, app: app, verifier: "")
                default: try await server.exchange(code, app: app, redirectURI: "https://app.example/other")
                }
            expectOAuthError(refused, status: 400, error: "invalid_grant")
            // The code cannot be tried again, even right
            expectOAuthError(try await server.exchange(code, app: app), status: 400, error: "invalid_grant")
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
        }
    }

    @Test("an authorization request that named redirect_uri needs it at the exchange: without it invalid_request, and the code is spent")
    func namedRedirectURIIsRequired() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let code = try await Self.code(server, app)
            let refused = try await server.exchange(code, app: app, redirectURI: nil)
            expectOAuthError(refused, status: 400, error: "invalid_request")
            expectOAuthError(try await server.exchange(code, app: app), status: 400, error: "invalid_grant")
            #expect(try await server.count("SELECT count(*) FROM access_tokens") == 0)
        }
    }

    @Test("an authorization request that left redirect_uri out (one registered) may leave it out at the exchange, or name it")
    func implicitRedirectURIIsOptional() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            for redirectURI in [nil, App.redirectURI] {
                let query = try await Browser(server).signIn(app.authorizeURI([("redirect_uri", nil)]))
                let reply = try await server.exchange(try #require(query["code"]), app: app, redirectURI: redirectURI)
                #expect(reply.status == 200, "\(reply)")
            }
            #expect(try await server.count("SELECT count(*) FROM authorization_codes_view WHERE redirect_uri_named = 0") == 2)
        }
    }

    @Test("a code issued without a challenge refuses a verifier (no PKCE downgrade), and works without one")
    func noChallenge() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            for (verifier, status) in [(app.verifier, 400), ("", 200)] {
                let browser = Browser(server)
                let query = try await browser.signIn(app.authorizeURI([("code_challenge", nil), ("code_challenge_method", nil)]))
                let reply = try await server.exchange(try #require(query["code"]), app: app, verifier: verifier)
                #expect(reply.status == status, "\(reply)")
            }
        }
    }

    @Test("another client's code, an unknown code and an expired one are invalid_grant; the owner's code stays good")
    func foreignAndExpiredCodes() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let thief = try await server.app()
            let code = try await Self.code(server, app)
            expectOAuthError(try await server.exchange(code, app: thief), status: 400, error: "invalid_grant")
            expectOAuthError(try await server.exchange("nonsense", app: app), status: 400, error: "invalid_grant")
            #expect(try await server.exchange(code, app: app).status == 200)

            let late = try await Self.code(server, app)
            server.clock.advance(seconds: 60)
            expectOAuthError(try await server.exchange(late, app: app), status: 400, error: "invalid_grant")
        }
    }

    @Test("a public client exchanges with client_id alone; a secret never authenticates it; a confidential client needs its secret")
    func publicClients() async throws {
        try await TestServer.with(Self.configure) { server in
            let spa = try await server.app(isPublic: true)
            let code = try await Self.code(server, spa)
            let reply = try await server.exchange(code, app: spa)
            #expect(reply.status == 200, "\(reply)")
            // A public client with any secret, or a confidential one with none: invalid_client
            let withSecret = try await server.token(
                [("grant_type", "authorization_code"), ("code", "x")], basic: ClientCredentials(clientID: spa.client.clientID, secret: "guess"))
            expectOAuthError(withSecret, status: 401, error: "invalid_client")
            let web = try await server.app()
            let bare = try await server.token([("grant_type", "authorization_code"), ("code", "x"), ("client_id", web.client.clientID)])
            expectOAuthError(bare, status: 401, error: "invalid_client")
        }
    }

    @Test("a public client's refresh token rotates even with renew_refresh_token = false")
    func publicRefreshRotates() async throws {
        try await TestServer.with({ Self.configure(&$0); $0.oauth.renewRefreshToken = false }) { server in
            let spa = try await server.app(isPublic: true)
            let tokens = try await server.exchange(try await Self.code(server, spa), app: spa)
            let refreshToken = try #require(tokens.refreshToken)
            let refreshed = try await server.refresh(refreshToken, app: spa)
            #expect(refreshed.status == 200, "\(refreshed)")
            #expect(refreshed.refreshToken != nil && refreshed.refreshToken != refreshToken)
        }
    }

    @Test("a refresh answers a new ID token for the original sign-in: its sub, aud and auth_time, a new iat, no nonce, at_hash of the new access token")
    func refreshIDToken() async throws {
        try await TestServer.with(Self.configure) { server in
            let spa = try await server.app(isPublic: true)
            let signedInAt = Int(server.clock.now / 1000)
            let tokens = try await server.exchange(try await Self.code(server, spa), app: spa)
            var refreshToken = try #require(tokens.refreshToken)
            // Twice, so that the second refresh presents a rotated refresh token
            for minutes in [10, 20] {
                server.clock.advance(seconds: 600)
                let refreshed = try await server.refresh(refreshToken, app: spa)
                #expect(refreshed.status == 200, "\(refreshed)")
                #expect(refreshed.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"])
                let idToken = try DecodedJWT(try #require(refreshed.string("id_token")))
                #expect(idToken.verifies(against: try #require(try await server.send(uri: "/oauth2/jwks", method: .get).json)))
                let claims = idToken.claims
                #expect(claims["iss"] == "https://sso.example" && claims["sub"] == "alice")
                #expect(claims["aud"] == .array([.string(spa.client.clientID)]) || claims["aud"] == .string(spa.client.clientID))
                #expect(claims["auth_time"]?.int == signedInAt)
                #expect(claims["iat"]?.int == signedInAt + minutes * 60)
                #expect(claims["nonce"] == nil)
                #expect(claims["at_hash"]?.string == IDTokenMinter.accessTokenHash(try #require(refreshed.accessToken)))
                refreshToken = try #require(refreshed.refreshToken)
            }
        }
    }

    @Test("a refresh answers no ID token without openid, nor for a refresh token older than the auth_time column")
    func refreshWithoutIDToken() async throws {
        try await TestServer.with(Self.configure) { server in
            let spa = try await server.app(isPublic: true)
            let withoutOpenID = try await server.exchange(try await Self.code(server, spa, scope: "profile"), app: spa)
            let withOpenID = try await server.exchange(try await Self.code(server, spa), app: spa)
            // A refresh token written before the store kept auth_time: the column is NULL
            let withOpenIDRefresh = try #require(withOpenID.refreshToken)
            let queue = try DatabaseQueue(path: server.services.configuration.database.path)
            try await queue.write { db in try db.execute(sql: "UPDATE refresh_tokens SET auth_time = NULL WHERE scope = 'openid'") }
            try await queue.close()
            for refreshToken in [try #require(withoutOpenID.refreshToken), withOpenIDRefresh] {
                let refreshed = try await server.refresh(refreshToken, app: spa)
                #expect(refreshed.status == 200, "\(refreshed)")
                #expect(refreshed.members == ["access_token", "refresh_token", "scope", "token_type", "expires_in"])
            }
        }
    }

    @Test("the tokens follow the key semantics: reuse by default, renewal revokes, device_ scopes apart, JWT clients renew",
          arguments: ["reuse", "renewal", "device", "jwt"])
    func keySemantics(_ mode: String) async throws {
        try await TestServer.with({ Self.configure(&$0); $0.oauth.renewAccessTokenPerRequest = mode == "renewal" }) { server in
            let app = try await server.app(format: mode == "jwt" ? .jwt : .opaque)
            let browser = Browser(server)
            let firstScope = mode == "device" ? "openid device_ipad" : "openid"
            let secondScope = mode == "device" ? "openid device_iphone" : "openid"
            let first = try await server.exchange(try await Self.code(server, app, scope: firstScope, browser: browser), app: app)
            let second = try await server.exchange(try await Self.code(server, app, scope: secondScope, browser: browser), app: app)
            #expect(first.status == 200 && second.status == 200)
            let states = try await server.accessTokenStates()
            switch mode {
            case "reuse":
                #expect(second.accessToken == first.accessToken && states == ["ACTIVE"])
            case "device":
                #expect(second.accessToken != first.accessToken && states == ["ACTIVE", "ACTIVE"])
            default:
                #expect(second.accessToken != first.accessToken && states == ["REVOKED", "ACTIVE"], "\(states)")
            }
            #expect(try await server.count("SELECT count(*) FROM access_tokens WHERE grant_type = 'authorization_code'") == states.count)
        }
    }

    // MARK: userinfo

    @Test(
        "userinfo, by GET or POST (OpenID Connect Core §5.3.1): sub and preferred_username for a user's openid token; RFC 6750 errors otherwise",
        arguments: [HTTPRequest.Method.get, .post])
    func userInfo(method: HTTPRequest.Method) async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let tokens = try await server.exchange(try await Self.code(server, app), app: app)
            let answer = try await server.userInfo(try #require(tokens.accessToken), method: method)
            #expect(answer.status == 200 && answer.string("sub") == "alice" && answer.string("preferred_username") == "alice")

            let none = try await server.send(uri: "/oauth2/userinfo", method: method)
            #expect(none.status == 401 && none.header("WWW-Authenticate") == "Bearer realm=\"token-authority\"")
            let bogus = try await server.userInfo("not-a-token", method: method)
            #expect(bogus.status == 401 && bogus.header("WWW-Authenticate")?.contains("error=\"invalid_token\"") == true)
            let machine = try await server.client()
            let appToken = try await server.clientCredentialsGrant(machine, scope: "openid")
            let forbidden = try await server.userInfo(try #require(appToken.accessToken), method: method)
            #expect(forbidden.status == 403 && forbidden.header("WWW-Authenticate")?.contains("insufficient_scope") == true)
        }
    }

    @Test("OpenID Connect discovery names the endpoints, ES256, the subject type and the claims")
    func discovery() async throws {
        try await TestServer.with(Self.configure) { server in
            let reply = try await server.send(uri: "/.well-known/openid-configuration", method: .get)
            #expect(reply.status == 200)
            #expect(reply["issuer"] == "https://sso.example")
            #expect(reply["authorization_endpoint"] == "https://sso.example/oauth2/authorize")
            #expect(reply["userinfo_endpoint"] == "https://sso.example/oauth2/userinfo")
            #expect(reply["end_session_endpoint"] == "https://sso.example/oauth2/logout")
            #expect(reply["id_token_signing_alg_values_supported"] == .array(["ES256"]))
            #expect(reply["subject_types_supported"] == .array(["public"]))
            #expect(reply["response_types_supported"] == .array(["code"]))
            #expect(reply["code_challenge_methods_supported"] == .array(["S256"]))
            #expect(reply["scopes_supported"]?.array?.contains("openid") == true)
        }
    }
}

extension TestServer {
    func userInfo(_ accessToken: String, method: HTTPRequest.Method = .get) async throws -> HTTPReply {
        try await send(uri: "/oauth2/userinfo", method: method, headers: [.authorization: "Bearer " + accessToken])
    }
}
