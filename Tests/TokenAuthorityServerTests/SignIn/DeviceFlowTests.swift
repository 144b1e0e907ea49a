import Foundation
import GRDB
import HTTPTypes
import NIOCore
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// RFC 8628 and docs/device-sign-in.md through the router: the device's request, `/device`
/// (code, login, approval), the polls, and the wrong-code limits.
@Suite("Devices sign in: the device authorization grant")
struct DeviceFlowTests {
    static func configure(_ configuration: inout DeploymentConfiguration) {
        configuration.configuredIssuer = "https://sso.example"
        configuration.deviceAuthorization.failuresPerSourcePerMinute = 3
    }

    /// A TV app: a public client of the device grant.
    static func tv(_ server: TestServer) async throws -> ClientCredentials {
        try await Fixtures.registerClient(
            in: server.services.store, id: "tv-\(UUID().uuidString.prefix(6))",
            grantTypes: [.deviceCode, .refreshToken], isPublic: true)
    }

    static func start(_ server: TestServer, _ client: ClientCredentials, scope: String = "openid device_tv")
        async throws -> HTTPReply
    {
        try await server.send(
            uri: "/oauth2/device_authorization", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: .init(string: Form.encode([("client_id", client.clientID), ("scope", scope)])))
    }

    static func poll(_ server: TestServer, _ client: ClientCredentials, _ deviceCode: String) async throws -> HTTPReply {
        try await server.token([
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode),
            ("client_id", client.clientID),
        ])
    }

    /// Approves `userCode` in `browser` as alice: the code form, the login page, the approval.
    static func approve(_ browser: Browser, userCode: String, decision: String = "approve") async throws -> HTTPReply {
        let form = try await browser.get("/device")
        let entered = try await browser.postForm(
            "/device", [("csrf", try #require(Browser.hiddenField("csrf", in: form.body))), ("user_code", userCode)])
        var approval = entered
        if entered.body.contains("id=\"password\"") {
            let login = try await browser.postForm(
                "/oauth2/login",
                [
                    ("csrf", try #require(Browser.hiddenField("csrf", in: entered.body))), ("request", ""),
                    ("user_code", try #require(Browser.hiddenField("user_code", in: entered.body))),
                    ("username", "alice"), ("password", "pw"),
                ])
            #expect(login.status == 303, "\(login)")
            approval = try await browser.get(try #require(login.header("Location")))
        }
        #expect(approval.body.contains("id=\"approve\""), "\(approval)")
        return try await browser.postForm(
            "/device/decision",
            [
                ("csrf", try #require(Browser.hiddenField("csrf", in: approval.body))),
                ("user_code", try #require(Browser.hiddenField("user_code", in: approval.body))), ("decision", decision),
            ])
    }

    @Test("the device's request answers both codes, the verification URIs, expires_in and interval; the grant is required")
    func deviceAuthorization() async throws {
        try await TestServer.with(Self.configure) { server in
            let reply = try await Self.start(server, try await Self.tv(server))
            #expect(reply.status == 200 && reply.header("Cache-Control") == "no-store", "\(reply)")
            let userCode = try #require(reply.string("user_code"))
            #expect(userCode.wholeMatch(of: /[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}/) != nil, "\(userCode)")
            #expect(reply.string("verification_uri") == "https://sso.example/device")
            #expect(reply.string("verification_uri_complete") == "https://sso.example/device?user_code=" + userCode)
            #expect(reply.int("expires_in") == 600 && reply.int("interval") == 5)
            #expect(reply.string("device_code")?.count == 43)
            // Stored only hashed
            #expect(try await server.count("SELECT count(*) FROM device_authorizations WHERE device_code_sha256 = ?", [Data(TokenCipher.digest(of: reply.string("device_code") ?? ""))]) == 1)

            let web = try await server.client(grantTypes: [.clientCredentials])
            let refused = try await server.send(
                uri: "/oauth2/device_authorization", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: Form.basic(web)],
                body: .init(string: "scope=x"))
            expectOAuthError(refused, status: 400, error: "unauthorized_client")
        }
    }

    @Test("polls: pending, slow_down with the interval grown by 5 s, then after approval the tokens exactly once")
    func approveAndPoll() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let tv = try await Self.tv(server)
            let started = try await Self.start(server, tv)
            let deviceCode = try #require(started.string("device_code"))
            expectOAuthError(try await Self.poll(server, tv, deviceCode), status: 400, error: "authorization_pending")
            let fast = try await Self.poll(server, tv, deviceCode)
            expectOAuthError(fast, status: 400, error: "slow_down")
            #expect(try await server.count("SELECT interval_seconds FROM device_authorizations") == 10)

            // The user types the code in lower case without the dash, signs in and approves
            let typed = (started.string("user_code") ?? "").lowercased().replacingOccurrences(of: "-", with: "")
            let browser = Browser(server)
            let done = try await Self.approve(browser, userCode: typed)
            #expect(done.status == 200 && done.body.contains("Device connected"), "\(done)")
            // A user code works once: entered again, it names nothing
            let form = try await browser.get("/device")
            let again = try await browser.postForm(
                "/device", [("csrf", Browser.hiddenField("csrf", in: form.body) ?? ""), ("user_code", typed)])
            #expect(again.status == 400 && again.body.contains("id=\"device-error\""), "\(again)")

            server.clock.advance(seconds: 11)
            let tokens = try await Self.poll(server, tv, deviceCode)
            #expect(tokens.status == 200 && tokens.accessToken != nil && tokens.refreshToken != nil, "\(tokens)")
            #expect(tokens.string("id_token") != nil && tokens.scope == "device_tv openid")
            expectOAuthError(try await Self.poll(server, tv, deviceCode), status: 400, error: "invalid_grant")
        }
    }

    @Test("a denial is access_denied; an expired request is expired_token")
    func denyAndExpire() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let tv = try await Self.tv(server)
            let denied = try await Self.start(server, tv)
            let page = try await Self.approve(Browser(server), userCode: try #require(denied.string("user_code")), decision: "deny")
            #expect(page.body.contains("Request denied"))
            expectOAuthError(try await Self.poll(server, tv, try #require(denied.string("device_code"))), status: 400, error: "access_denied")

            let late = try await Self.start(server, tv)
            server.clock.advance(seconds: 600)
            expectOAuthError(try await Self.poll(server, tv, try #require(late.string("device_code"))), status: 400, error: "expired_token")
        }
    }

    @Test("two simultaneous polls after approval: one gets the tokens")
    func simultaneousPolls() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let tv = try await Self.tv(server)
            let started = try await Self.start(server, tv)
            _ = try await Self.approve(Browser(server), userCode: try #require(started.string("user_code")))
            let deviceCode = try #require(started.string("device_code"))
            async let first = Self.poll(server, tv, deviceCode)
            async let second = Self.poll(server, tv, deviceCode)
            let statuses = try await [first, second].map(\.status).sorted()
            #expect(statuses == [200, 400])
        }
    }

    @Test("a signed-in browser opening verification_uri_complete goes straight to the approval")
    func verificationURIComplete() async throws {
        try await TestServer.with(Self.configure) { server in
            try await server.user("alice", password: "pw")
            let tv = try await Self.tv(server)
            let browser = Browser(server)
            _ = try await Self.approve(browser, userCode: try #require(try await Self.start(server, tv).string("user_code")))
            let second = try await Self.start(server, tv, scope: "device_ipad")
            let complete = try #require(second.string("verification_uri_complete")).replacingOccurrences(of: "https://sso.example", with: "")
            let page = try await browser.get(complete)
            #expect(page.body.contains("id=\"approve\"") && page.body.contains("device_ipad"), "\(page)")
        }
    }

    @Test("wrong user codes are counted in the database: past the limit, 429 with Retry-After")
    func wrongCodes() async throws {
        try await TestServer.with(Self.configure) { server in
            let browser = Browser(server)
            var statuses: [Int] = []
            for _ in 0..<4 {
                let form = try await browser.get("/device")
                let reply = try await browser.postForm(
                    "/device", [("csrf", Browser.hiddenField("csrf", in: form.body) ?? ""), ("user_code", "BCDF-GHJK")])
                statuses.append(reply.status)
                if reply.status == 429 { #expect(reply.header("Retry-After") != nil) }
            }
            #expect(statuses == [400, 400, 400, 429], "\(statuses)")
            #expect(try await server.count("SELECT sum(failures) FROM device_user_code_failures") == 4)
        }
    }

    @Test(
        "a sign-in form that is not one (bad percent-encoding, another Content-Type, over 64 KiB) gets its 4xx page, never a 500",
        arguments: ["/device", "/device/decision", "/oauth2/login"])
    func malformedForms(path: String) async throws {
        try await TestServer.with(Self.configure) { server in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            let cases: [(headers: HTTPFields, body: String, status: Int)] = [
                (form, "user_code=%zz", 400),
                (form, "user_code=%FF", 400),
                ([.contentType: "text/plain"], "user_code=BCDF-GHJK", 400),
                (form, "user_code=" + String(repeating: "a", count: 64 * 1024), 413),
            ]
            for (headers, body, status) in cases {
                // When a browser (or anyone) posts a malformed form to a sign-in page
                let reply = try await server.send(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))

                // Then the answer is the client's error, on the sign-in page
                #expect(reply.status == status, "\(path) \(body.prefix(20)) \(headers): \(reply.status)")
                #expect(reply.body.contains("Sign-in failed"), "\(reply.body.prefix(300))")
            }
        }
    }

    @Test("device_tv and device_ipad tokens of one user live side by side in renewal mode")
    func devicesApart() async throws {
        try await TestServer.with({ Self.configure(&$0); $0.oauth.renewAccessTokenPerRequest = true }) { server in
            try await server.user("alice", password: "pw")
            let tv = try await Self.tv(server)
            let browser = Browser(server)
            var tokens: [String] = []
            for scope in ["device_tv", "device_ipad"] {
                let started = try await Self.start(server, tv, scope: scope)
                _ = try await Self.approve(browser, userCode: try #require(started.string("user_code")))
                let reply = try await Self.poll(server, tv, try #require(started.string("device_code")))
                tokens.append(try #require(reply.accessToken))
            }
            #expect(Set(tokens).count == 2)
            #expect(try await server.accessTokenStates() == ["ACTIVE", "ACTIVE"])
        }
    }
}
