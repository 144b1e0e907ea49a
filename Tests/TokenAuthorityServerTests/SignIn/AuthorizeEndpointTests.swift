import Foundation
import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// docs/browser-sign-in.md, "GET /oauth2/authorize" and "The login page": every rule, through the router.
@Suite("Browser sign-in: the authorization endpoint and the login page")
struct AuthorizeEndpointTests {
    static func configure(_ configuration: inout DeploymentConfiguration) {
        configuration.configuredIssuer = "https://sso.example"
        configuration.signIn.productName = "Acme Sign-In"
    }

    // MARK: When no redirect can be trusted: a page

    @Test("an unknown client, a client without the grant, or an unregistered redirect_uri get a 400 page, never a redirect")
    func untrustedRedirects() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let passwordOnly = try await server.client(grantTypes: [.password])
            let browser = Browser(server)
            for uri in [
                App(client: ClientCredentials(clientID: "nobody", secret: "x")).authorizeURI(),
                App(client: passwordOnly).authorizeURI(),
                app.authorizeURI([("redirect_uri", "https://evil.example/callback")]),
                // exact match: a trailing slash, another case, an added query are other URIs
                app.authorizeURI([("redirect_uri", App.redirectURI + "/")]),
                app.authorizeURI([("redirect_uri", "https://APP.example/callback")]),
                app.authorizeURI([("redirect_uri", App.redirectURI + "?x=1")]),
                "/oauth2/authorize?response_type=code&client_id=\(app.client.clientID)&client_id=other",
            ] {
                let reply = try await browser.get(uri)
                #expect(reply.status == 400, "\(uri): \(reply)")
                #expect(reply.header("Location") == nil, "\(uri) redirected")
                #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
            }
        }
    }

    @Test("redirect_uri may be left out when exactly one is registered")
    func implicitRedirectURI() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let reply = try await Browser(server).get(app.authorizeURI([("redirect_uri", nil)]))
            #expect(reply.status == 200 && reply.body.contains("id=\"password\""), "\(reply)")
        }
    }

    // MARK: Every later error: a redirect with error, state and iss

    @Test(
        "errors after the redirect URI is known go back to it with error, error_description, state and iss",
        arguments: [
            ([("response_type", "token")], "unsupported_response_type"),
            ([("response_type", nil)], "invalid_request"),
            ([("code_challenge_method", "plain")], "invalid_request"),
            ([("code_challenge", "too-short")], "invalid_request"),
            ([("code_challenge_method", nil)], "invalid_request"),
            ([("scope", "bad\"scope")], "invalid_scope"),
            ([("prompt", "consent")], "invalid_request"),
            ([("prompt", "none")], "login_required"),
            ([("request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.")], "request_not_supported"),
            ([("request_uri", "https://app.example/request.jwt"), ("prompt", "none")], "request_uri_not_supported"),
        ] as [([(String, String?)], String)])
    func redirectedErrors(_ change: [(String, String?)], error: String) async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let reply = try await Browser(server).get(app.authorizeURI(state: "s t&1", change))
            let query = try #require(App.callback(reply), "\(reply)")
            #expect(query["error"] == error)
            #expect(query["error_description"]?.isEmpty == false)
            #expect(query["state"] == "s t&1")
            #expect(query["iss"] == "https://sso.example")
            #expect(query["code"] == nil)
        }
    }

    @Test("a public client must send a PKCE challenge; a confidential one may leave it out")
    func pkceRequiredForPublicClients() async throws {
        try await TestServer.with(Self.configure) { server in
            let spa = try await server.app(isPublic: true)
            let browser = Browser(server)
            let refused = try await browser.get(spa.authorizeURI([("code_challenge", nil), ("code_challenge_method", nil)]))
            #expect(App.callback(refused)?["error"] == "invalid_request", "\(refused)")
            let web = try await server.app()
            let page = try await browser.get(web.authorizeURI([("code_challenge", nil), ("code_challenge_method", nil)]))
            #expect(page.status == 200, "\(page)")
        }
    }

    // MARK: The login page

    @Test("the login page: no-store, CSP, no framing, labels for both fields, the product and app names, a __Host- CSRF cookie")
    func loginPage() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let browser = Browser(server)
            let page = try await browser.get(app.authorizeURI())
            #expect(page.status == 200)
            #expect(page.header("Cache-Control") == "no-store")
            #expect(page.header("Content-Security-Policy")?.hasPrefix("default-src 'self'; frame-ancestors 'none'") == true)
            #expect(page.header("X-Frame-Options") == "DENY")
            #expect(page.body.contains("<label for=\"username\">") && page.body.contains("<label for=\"password\">"))
            #expect(page.body.contains("Acme Sign-In") && page.body.contains(app.client.clientID))
            #expect(!page.body.contains("<script") && !page.body.contains("src=\"http") && !page.body.contains("href=\"http"))
            let csrfCookie = try #require(browser.setCookieLines.last { $0.hasPrefix("__Host-token-authority-csrf=") })
            for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
                #expect(csrfCookie.contains(attribute), "\(attribute) in \(csrfCookie)")
            }
            #expect(!csrfCookie.contains("Domain"))
            // and its stylesheet is served from this server
            let css = try await browser.get("/oauth2/login/style.css")
            #expect(css.status == 200 && css.header("Content-Type") == "text/css; charset=utf-8")
        }
    }

    @Test("two login pages open in one browser both sign in: the CSRF cookie is kept, not replaced")
    func twoTabs() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            let first = try await browser.get(app.authorizeURI())
            _ = try await browser.get(app.authorizeURI(state: "second-tab"))
            let login = try await browser.submitLogin(page: first, username: "alice", password: "pw")
            #expect(login.status == 303, "\(login)")
        }
    }

    @Test("a form without the right CSRF token is refused with a page and opens no session")
    func csrf() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            let page = try await browser.get(app.authorizeURI())
            let request = try #require(Browser.hiddenField("request", in: page.body))
            // A forged token, and a right token without its cookie (another site's form)
            let forged = try await browser.postForm(
                "/oauth2/login", [("csrf", String(repeating: "A", count: 43)), ("request", request), ("username", "alice"), ("password", "pw")])
            #expect(forged.status == 400 && forged.header("Location") == nil, "\(forged)")
            let token = try #require(Browser.hiddenField("csrf", in: page.body))
            browser.forget("__Host-token-authority-csrf")
            let cookieless = try await browser.postForm(
                "/oauth2/login", [("csrf", token), ("request", request), ("username", "alice"), ("password", "pw")])
            #expect(cookieless.status == 400, "\(cookieless)")
            #expect(browser.cookies["__Host-token-authority-session"] == nil)
            #expect(try await server.count("SELECT count(*) FROM sessions") == 0)
        }
    }

    @Test("a wrong password, an unknown user and a locked account get the same 401 page and one message")
    func wrongPassword() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            var bodies: [String] = []
            for (username, password) in [("alice", "wrong"), ("nobody", "pw")] {
                let page = try await browser.get(app.authorizeURI())
                let reply = try await browser.submitLogin(page: page, username: username, password: password)
                #expect(reply.status == 401, "\(reply)")
                #expect(reply.body.contains("id=\"login-error\"") && reply.body.contains("aria-describedby=\"login-error\""))
                #expect(reply.body.contains("The username or password is incorrect."))
                bodies.append(reply.body.replacingOccurrences(of: username, with: "USER"))
            }
            #expect(browser.cookies["__Host-token-authority-session"] == nil)
            // Locked after five failures: the right password gets the same page
            for _ in 0..<4 {
                let page = try await browser.get(app.authorizeURI())
                _ = try await browser.submitLogin(page: page, username: "alice", password: "wrong")
            }
            let page = try await browser.get(app.authorizeURI())
            let locked = try await browser.submitLogin(page: page, username: "alice", password: "pw")
            #expect(locked.status == 401 && locked.body.contains("The username or password is incorrect."))
        }
    }

    @Test("a right password opens a session (__Host-, Secure, HttpOnly, SameSite=Lax) and sends the browser back to authorize, which issues a code")
    func signIn() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            let page = try await browser.get(app.authorizeURI(state: "xyz", [("prompt", "login")]))
            let login = try await browser.submitLogin(page: page, username: "alice", password: "pw")
            #expect(login.status == 303)
            let location = try #require(login.header("Location"))
            #expect(location.hasPrefix("/oauth2/authorize?") && !location.contains("prompt="), "\(location)")
            let session = try #require(browser.setCookieLines.last { $0.hasPrefix("__Host-token-authority-session=") })
            for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
                #expect(session.contains(attribute), "\(attribute) in \(session)")
            }
            #expect(!session.contains("Max-Age") && !session.contains("Domain"))
            // Only the cookie's SHA-256 is stored
            let value = try #require(browser.cookies["__Host-token-authority-session"])
            #expect(try await server.count("SELECT count(*) FROM sessions WHERE session_sha256 = ?", [Data(TokenCipher.digest(of: value))]) == 1)
            let back = try await browser.get(location)
            let query = try #require(App.callback(back), "\(back)")
            #expect(query["code"]?.count == 22 && query["state"] == "xyz" && query["iss"] == "https://sso.example")
            #expect(try await server.count("SELECT count(*) FROM authorization_codes WHERE code_sha256 = ?", [Data(TokenCipher.digest(of: query["code"] ?? ""))]) == 1)
        }
    }

    // MARK: Single sign-on

    @Test("a second app in the same browser gets its code without the login page; prompt=login and prompt=none behave")
    func singleSignOn() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let first = try await server.app()
            let second = try await server.app()
            let browser = Browser(server)
            _ = try await browser.signIn(first.authorizeURI())
            let direct = try await browser.get(second.authorizeURI())
            #expect(App.callback(direct)?["code"] != nil, "\(direct)")
            let silent = try await browser.get(second.authorizeURI([("prompt", "none")]))
            #expect(App.callback(silent)?["code"] != nil, "\(silent)")
            let forced = try await browser.get(second.authorizeURI([("prompt", "login")]))
            #expect(forced.status == 200 && forced.body.contains("id=\"password\""))
        }
    }

    @Test("max_age (OpenID Connect Core §3.1.2.1): a password typed longer ago asks for it again, or login_required with prompt=none; after the login the code comes with that login's auth_time")
    func maxAge() async throws {
        try await TestServer.with(Self.configure) { server in
            // Given a browser whose password was typed 300 s ago
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            _ = try await browser.signIn(app.authorizeURI())
            server.clock.advance(seconds: 300)

            // Then max_age=300 is satisfied by the session: the code at once
            #expect(App.callback(try await browser.get(app.authorizeURI([("max_age", "300")])))?["code"] != nil)
            // And max_age=299 is not: the login page, or with prompt=none login_required
            let page = try await browser.get(app.authorizeURI([("max_age", "299")]))
            #expect(page.status == 200 && page.body.contains("id=\"password\""), "\(page)")
            let silent = try await browser.get(app.authorizeURI([("max_age", "299"), ("prompt", "none")]))
            #expect(App.callback(silent)?["error"] == "login_required", "\(silent)")

            // When the user signs in again for max_age=0
            let query = try await browser.signIn(app.authorizeURI([("max_age", "0")]))

            // Then the login leads to the code, not to the login page again, and its ID token
            // carries the new login's auth_time
            let tokens = try await server.exchange(try #require(query["code"]), app: app)
            let claims = try DecodedJWT(try #require(tokens.string("id_token"))).claims
            #expect(claims["auth_time"]?.int == Int(server.clock.now / 1000))
        }
    }

    @Test("a max_age that is not a whole number of seconds is invalid_request at the redirect URI", arguments: ["-1", "1.5", "abc", "+5", "99999999999"])
    func malformedMaxAge(value: String) async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app()
            let reply = try await Browser(server).get(app.authorizeURI([("max_age", value)]))
            #expect(App.callback(reply)?["error"] == "invalid_request", "\(reply)")
        }
    }

    @Test("a session ends after [sign_in] session_lifetime: the login page again")
    func sessionExpiry() async throws {
        try await TestServer.with({ Self.configure(&$0); $0.signIn.sessionLifetime = 600 }) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            _ = try await browser.signIn(app.authorizeURI())
            server.clock.advance(seconds: 599)
            #expect(App.callback(try await browser.get(app.authorizeURI()))?["code"] != nil)
            server.clock.advance(seconds: 1)
            let page = try await browser.get(app.authorizeURI())
            #expect(page.status == 200 && page.body.contains("id=\"password\""), "\(page)")
        }
    }

    // MARK: Logout

    @Test("logout ends the session and goes back to a registered post_logout_redirect_uri with state; an unregistered one is refused")
    func logout() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app(logoutURIs: ["https://app.example/bye"])
            let browser = Browser(server)
            _ = try await browser.signIn(app.authorizeURI())
            let client = app.client.clientID
            let refused = try await browser.get("/oauth2/logout?client_id=\(client)&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
            #expect(refused.status == 400 && refused.header("Location") == nil)
            #expect(try await server.count("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 1)

            let reply = try await browser.get(
                "/oauth2/logout?client_id=\(client)&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=s1")
            #expect(reply.status == 303 && reply.header("Location") == "https://app.example/bye?state=s1", "\(reply)")
            #expect(browser.cookies["__Host-token-authority-session"] == nil)
            #expect(try await server.count("SELECT count(*) FROM sessions WHERE ended_at IS NOT NULL") == 1)
            let page = try await browser.get(app.authorizeURI())
            #expect(page.status == 200 && page.body.contains("id=\"password\""))
            // Without a redirect URI: a page saying so
            let plain = try await browser.get("/oauth2/logout")
            #expect(plain.status == 200 && plain.body.contains("You are signed out"))
        }
    }

    @Test("HEAD, which must change nothing, is refused where a GET issues a code or ends a session")
    func headChangesNothing() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let app = try await server.app()
            let browser = Browser(server)
            _ = try await browser.signIn(app.authorizeURI())
            let codes = try await server.count("SELECT count(*) FROM authorization_codes")

            // A signed-in browser's GET of this URI would be redirected with a new code
            let authorize = try await browser.request(.head, app.authorizeURI())
            #expect(authorize.status == 405 && authorize.header("Allow") == "GET", "\(authorize)")
            #expect(authorize.header("Location") == nil)
            #expect(try await server.count("SELECT count(*) FROM authorization_codes") == codes)

            let logout = try await browser.request(.head, "/oauth2/logout")
            #expect(logout.status == 405 && logout.header("Allow") == "GET", "\(logout)")
            #expect(try await server.count("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 1)

            // Another method names GET alone too; HEAD elsewhere is served as before
            let delete = try await browser.request(.delete, "/oauth2/logout")
            #expect(delete.status == 405 && delete.header("Allow") == "GET", "\(delete)")
            #expect(try await browser.request(.head, "/oauth2/jwks").status == 200)
        }
    }

    @Test("an id_token_hint this server issued names the client of post_logout_redirect_uri, expired or not")
    func logoutWithIDTokenHint() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app(logoutURIs: ["https://app.example/bye"])
            let browser = Browser(server)
            let code = try await CodeExchangeTests.code(server, app, browser: browser)
            let idToken = try #require(try await server.exchange(code, app: app).string("id_token"))
            // The ManualClock's hour has long passed in real time: the token is expired
            #expect(try DecodedJWT(idToken).claims["exp"]?.int ?? .max < Int(Date().timeIntervalSince1970))

            let reply = try await browser.get(
                "/oauth2/logout?id_token_hint=\(idToken)&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=s2")
            #expect(reply.status == 303 && reply.header("Location") == "https://app.example/bye?state=s2", "\(reply)")
            #expect(try await server.count("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 0)
        }
    }

    @Test("an id_token_hint not issued here, an access token, or one for another client than client_id is refused; the session stays")
    func logoutRefusesForeignHints() async throws {
        try await TestServer.with(Self.configure) { server in
            let app = try await server.app(logoutURIs: ["https://app.example/bye"])
            let jwtApp = try await server.app(format: .jwt, logoutURIs: ["https://app.example/bye"])
            let browser = Browser(server)
            let idToken = try #require(
                try await server.exchange(try await CodeExchangeTests.code(server, app, browser: browser), app: app)
                    .string("id_token"))
            let accessToken = try #require(
                try await server.exchange(try await CodeExchangeTests.code(server, jwtApp, browser: browser), app: jwtApp)
                    .accessToken)
            let parts = idToken.split(separator: ".").map(String.init)
            let otherSignature = try #require(accessToken.split(separator: ".").last.map(String.init))
            let forged = [parts[0], parts[1], otherSignature].joined(separator: ".")
            let back = "&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye"
            for query in [
                "id_token_hint=\(forged)\(back)",
                "id_token_hint=not-a-jwt\(back)",
                "id_token_hint=\(accessToken)\(back)",
                "id_token_hint=\(idToken)&client_id=\(jwtApp.client.clientID)\(back)",
                "id_token_hint=\(forged)",
            ] {
                let reply = try await browser.get("/oauth2/logout?" + query)
                #expect(reply.status == 400 && reply.header("Location") == nil, "\(query): \(reply)")
                #expect(try await server.count("SELECT count(*) FROM sessions WHERE ended_at IS NULL") == 1, "\(query)")
            }
            // The same hint with its own client_id is accepted
            let reply = try await browser.get(
                "/oauth2/logout?id_token_hint=\(idToken)&client_id=\(app.client.clientID)\(back)")
            #expect(reply.status == 303, "\(reply)")
        }
    }
}
