import Crypto
import Foundation
import HTTPTypes
import Testing
import TokenAuthorityTesting

/// docs/browser-sign-in.md over a socket, against the real executable: the command line's
/// registration, a whole sign-in on each store, the login form's per-source limit, the logo.
@Suite("Browser sign-in, end to end")
struct SignInTests {
    static let redirectURI = "https://app.example/callback"

    @Test("client create registers redirect and logout URIs and public clients; show lists them; bad registrations are refused")
    func registration() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            _ = try await deployment.run(["migrate"])
            let web = try await deployment.createClient([
                "--redirect-uri", Self.redirectURI, "--redirect-uri", "http://127.0.0.1:8080/cb",
                "--post-logout-redirect-uri", "https://app.example/",
            ])
            let shown = try await deployment.run(["client", "show", web.id, "--json"])
            let view = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
            #expect(view?["redirect_uris"] as? [String] == [Self.redirectURI, "http://127.0.0.1:8080/cb"])
            #expect(view?["post_logout_redirect_uris"] as? [String] == ["https://app.example/"])
            #expect(view?["token_endpoint_auth_method"] as? String == "client_secret_basic")
            #expect((view?["grant_types"] as? [String])?.first == "authorization_code")

            let spa = try await deployment.run(["client", "create", "--name", "spa", "--public", "--redirect-uri", Self.redirectURI, "--json"])
            #expect(spa.status == 0, "\(spa)")
            let spaView = try JSONSerialization.jsonObject(with: Data(spa.stdout.utf8)) as? [String: Any]
            #expect(spaView?.keys.sorted() == ["client_id"], "a public client has no secret to show")

            for (arguments, complaint) in [
                (["--public", "--redirect-uri", Self.redirectURI, "--grant-types", "password"], "password"),
                (["--redirect-uri", "http://app.example/cb"], "https"),
                (["--redirect-uri", "https://app.example/cb#frag"], "fragment"),
                (["--redirect-uri", "https://app.example/cb?tenant=1&code=x"], "code in its query"),
                (["--redirect-uri", Self.redirectURI, "--post-logout-redirect-uri", "https://app.example/?state=1"],
                 "state in its query"),
                (["--grant-types", "authorization_code"], "--redirect-uri"),
                (["--public", "--redirect-uri", Self.redirectURI, "--introspection"], "introspect"),
            ] {
                let refused = try await deployment.run(["client", "create", "--name", "x"] + arguments)
                #expect(refused.status != 0 && refused.stderr.contains(complaint), "\(arguments): \(refused.stderr)")
            }
        }
    }

    @Test("a whole sign-in over HTTPS on each store: login page, session cookie, code, exchange with PKCE, ID token, userinfo",
          arguments: ["sqlite", "postgresql"])
    func wholeSignIn(_ store: String) async throws {
        guard store == "sqlite" || TestPostgres.enabled else { return }
        func run(_ database: String) async throws {
            try await Deployment.withServer(config: deploymentConfig(tls: true, database: database)) { server in
                let deployment = server.deployment
                let client = try await deployment.createClient(["--redirect-uri", Self.redirectURI])
                try await deployment.createUser("alice", password: "Pa55-word")
                let browser = SocketBrowser(server)
                let verifier = Base64URLText.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
                let challenge = Base64URLText.encode(SHA256.hash(data: Array(verifier.utf8)))
                let authorize = "/oauth2/authorize?" + Form.encode([
                    ("response_type", "code"), ("client_id", client.id), ("redirect_uri", Self.redirectURI),
                    ("scope", "openid"), ("state", "s1"), ("nonce", "n1"), ("code_challenge", challenge),
                    ("code_challenge_method", "S256"),
                ])
                let page = try await browser.get(authorize)
                #expect(page.status == 200 && page.body.contains("id=\"password\""), "\(page)")
                let login = try await browser.post("/oauth2/login", [
                    ("csrf", try #require(hiddenField("csrf", page.body))),
                    ("request", try #require(hiddenField("request", page.body))),
                    ("username", "alice"), ("password", "Pa55-word"),
                ])
                #expect(login.status == 303, "\(login)")
                let back = try await browser.get(try #require(login.header("Location")))
                let location = try #require(back.header("Location"), "\(back)")
                let code = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "code" }?.value)
                let tokens = try await server.postToken(
                    Form.encode([
                        ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", Self.redirectURI),
                        ("code_verifier", verifier),
                    ]), client: client)
                #expect(tokens.status == 200 && tokens.string("id_token") != nil, "\(tokens)")
                let userInfo = try await server.request(
                    .get, "/oauth2/userinfo", headers: [.authorization: "Bearer " + (tokens.accessToken ?? "")])
                #expect(userInfo.string("sub") == "alice")
                #expect(try await deployment.query("SELECT count(*) FROM sessions") == "1")
            }
        }
        if store == "sqlite" {
            try await run(sqliteDatabaseSection)
        } else {
            try await TestPostgres.withDatabase { url in try await run(TestPostgres.databaseSection(url)) }
        }
    }

    @Test("failed logins at the login form count per source: at the limit, a 429 page with Retry-After")
    func loginFormLimit() async throws {
        let config = deploymentConfig(extra: "[security.source_limits]\nfailed_logins_per_minute = 2")
        try await Deployment.withServer(config: config) { server in
            let client = try await server.deployment.createClient(["--redirect-uri", Self.redirectURI])
            let browser = SocketBrowser(server)
            let authorize = "/oauth2/authorize?" + Form.encode([
                ("response_type", "code"), ("client_id", client.id), ("redirect_uri", Self.redirectURI),
            ])
            var statuses: [Int] = []
            for _ in 0..<3 {
                let page = try await browser.get(authorize)
                let reply = try await browser.post("/oauth2/login", [
                    ("csrf", hiddenField("csrf", page.body) ?? ""), ("request", hiddenField("request", page.body) ?? ""),
                    ("username", "admin"), ("password", "wrong"),
                ])
                statuses.append(reply.status)
                if reply.status == 429 {
                    #expect(reply.header("Retry-After") != nil && reply.header("Content-Type") == "text/html; charset=utf-8")
                }
            }
            #expect(statuses == [401, 401, 429], "\(statuses)")
        }
    }

    @Test("behind a trusted proxy, wrong device codes count per X-Forwarded-For address: one address at its limit never blocks another")
    func deviceCodesBehindAProxy() async throws {
        let config = deploymentConfig(
            extra: """
                [security.source_limits]
                trusted_proxies = ["127.0.0.1"]
                [oauth.device_authorization]
                user_code_failures_per_source_per_minute = 2
                """)
        try await Deployment.withServer(config: config) { server in
            let browser = SocketBrowser(server)
            func wrongCode(from address: String) async throws -> Int {
                let forwarded: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: address]
                let form = try await browser.get("/device", headers: forwarded)
                return try await browser.post(
                    "/device", [("csrf", hiddenField("csrf", form.body) ?? ""), ("user_code", "BCDF-GHJK")],
                    headers: forwarded
                ).status
            }
            var statuses: [Int] = []
            for _ in 0..<3 { statuses.append(try await wrongCode(from: "198.51.100.7")) }
            statuses.append(try await wrongCode(from: "203.0.113.9"))
            #expect(statuses == [400, 400, 429, 400], "\(statuses)")
        }
    }

    @Test("[sign_in] logo_file is shown on the page and served as an image; a missing one stops start-up naming the key")
    func logo() async throws {
        let config = deploymentConfig(extra: "[sign_in]\nproduct_name = \"Acme\"\nlogo_file = \"logo.svg\"")
        try await Deployment.with(config: config) { deployment in
            let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#
            let missing = try await deployment.run(["serve"], timeout: .seconds(30))
            #expect(missing.status != 0 && missing.stderr.contains("sign_in.logo_file"), "\(missing.stderr)")
            try svg.write(toFile: deployment.directory.file("logo.svg"), atomically: true, encoding: .utf8)
            try await deployment.withServer { server in
                let logo = try await server.request(.get, "/oauth2/login/logo")
                #expect(logo.status == 200 && logo.header("Content-Type") == "image/svg+xml" && logo.body == svg)
            }
        }
    }
}

/// A browser over real sockets: keeps the cookies the server sets and sends them back.
final class SocketBrowser: @unchecked Sendable {
    // @unchecked: one test drives it from one task.
    let server: ServerProcess
    private var cookies: [String: String] = [:]

    init(_ server: ServerProcess) {
        self.server = server
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> HTTPReply {
        try await send(.get, path, headers: headers)
    }

    func post(_ path: String, _ form: [(String, String)], headers: HTTPFields = [:]) async throws -> HTTPReply {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        return try await send(.post, path, headers: headers, body: Form.encode(form))
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: String? = nil)
        async throws -> HTTPReply
    {
        var headers = headers
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let reply = try await server.request(method, path, headers: headers, body: body.map { Array($0.utf8) })
        for line in reply.headers[values: .setCookie] {
            let pair = (line.split(separator: ";").first ?? "").split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { continue }
            cookies[String(pair[0])] = pair[1].isEmpty ? nil : String(pair[1])
        }
        return reply
    }
}

/// The value of the login page's hidden input `name`, unescaped.
func hiddenField(_ name: String, _ html: String) -> String? {
    guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
    let rest = html[start.upperBound...]
    guard let end = rest.firstIndex(of: "\"") else { return nil }
    return String(rest[..<end]).replacingOccurrences(of: "&amp;", with: "&")
}

enum Base64URLText {
    static func encode<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
