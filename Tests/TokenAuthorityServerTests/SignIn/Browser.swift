import Crypto
import Foundation
import HTTPTypes
import NIOCore
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// A browser as the router tests need one (docs/browser-sign-in.md): a cookie jar that
/// keeps what `Set-Cookie` sets and sends it back, and the login form's fields read from
/// the page, as a user's browser would submit them.
final class Browser: @unchecked Sendable {
    // @unchecked: a test drives one browser from one task at a time.
    let server: TestServer
    private(set) var cookies: [String: String] = [:]
    /// Every `Set-Cookie` line received, newest last, for the attribute checks.
    private(set) var setCookieLines: [String] = []

    init(_ server: TestServer) {
        self.server = server
    }

    func get(_ uri: String) async throws -> HTTPReply {
        try await send(uri, method: .get)
    }

    /// A request with any other method and no body, cookies included: HEAD, DELETE, ….
    func request(_ method: HTTPRequest.Method, _ uri: String) async throws -> HTTPReply {
        try await send(uri, method: method)
    }

    func postForm(_ uri: String, _ parameters: [(String, String)]) async throws -> HTTPReply {
        try await send(
            uri, method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: Form.encode(parameters))
    }

    private func send(_ uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: String? = nil)
        async throws -> HTTPReply
    {
        var headers = headers
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        let reply = try await server.send(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        for line in reply.headers[values: .setCookie] {
            setCookieLines.append(line)
            let pair = line.split(separator: ";", maxSplits: 1).first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let name = String(parts[0]).trimmingCharacters(in: .whitespaces)
            let value = String(parts[1])
            if value.isEmpty || line.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return reply
    }

    func forget(_ cookie: String) {
        cookies[cookie] = nil
    }

    /// The login form's fields, submitted with a username and a password, as the page holds them.
    func submitLogin(page: HTTPReply, username: String, password: String) async throws -> HTTPReply {
        let csrf = try #require(Self.hiddenField("csrf", in: page.body), "no csrf field on the page")
        let request = try #require(Self.hiddenField("request", in: page.body), "no request field on the page")
        return try await postForm(
            "/oauth2/login", [("csrf", csrf), ("request", request), ("username", username), ("password", password)])
    }

    /// The value of a hidden input, its HTML escapes undone.
    static func hiddenField(_ name: String, in html: String) -> String? {
        guard let pattern = try? Regex("name=\"\(name)\" value=\"([^\"]*)\""), let match = html.firstMatch(of: pattern),
            let value = match.output[1].substring
        else { return nil }
        return String(value).replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
    }
}

/// An app's side of the flow: its client, its PKCE pair, the authorization URL it sends the
/// browser to, and the query its redirect URI receives.
struct App {
    static let redirectURI = "https://app.example/callback"

    let client: ClientCredentials
    let verifier = Base64URL.encode((0..<32).map { _ in UInt8.random(in: 0...255) })
    var challenge: String { PKCE.challenge(of: verifier) }

    /// `/oauth2/authorize?…` with PKCE, a state, a nonce and `parameters` added or replacing.
    func authorizeURI(
        scope: String = "openid", state: String = "st-1", nonce: String? = "n-1", _ extra: [(String, String?)] = []
    ) -> String {
        var parameters: [(String, String?)] = [
            ("response_type", "code"), ("client_id", client.clientID), ("redirect_uri", Self.redirectURI),
            ("scope", scope), ("state", state), ("nonce", nonce), ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ]
        for (name, value) in extra {
            parameters.removeAll { $0.0 == name }
            parameters.append((name, value))
        }
        return "/oauth2/authorize?" + Form.encode(parameters.compactMap { name, value in value.map { (name, $0) } })
    }

    /// The query parameters of a redirect's `Location`, when it goes to `redirectURI`.
    static func callback(_ reply: HTTPReply) -> [String: String]? {
        guard [302, 303].contains(reply.status), let location = reply.header("Location"),
            location.hasPrefix(redirectURI + "?"), let components = URLComponents(string: location)
        else { return nil }
        return Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }
}

extension TestServer {
    /// A client registered for the authorization code flow with `App.redirectURI`.
    func app(
        isPublic: Bool = false, format: AccessTokenFormat = .opaque, logoutURIs: [String] = ["https://app.example/bye"]
    ) async throws -> App {
        App(
            client: try await Fixtures.registerClient(
                in: services.store, id: "app-\(UUID().uuidString.prefix(8))",
                grantTypes: [.authorizationCode, .refreshToken], tokenFormat: format, redirectURIs: [App.redirectURI],
                postLogoutRedirectURIs: logoutURIs, isPublic: isPublic))
    }

    /// The code exchange, authenticated with HTTP Basic (or `client_id` alone for a public client),
    /// with the app's verifier unless `verifier` replaces it (`""`: none at all).
    func exchange(_ code: String, app: App, verifier: String? = nil, redirectURI: String? = App.redirectURI)
        async throws -> HTTPReply
    {
        var parameters = [("grant_type", "authorization_code"), ("code", code)]
        if let redirectURI { parameters.append(("redirect_uri", redirectURI)) }
        let verifier = verifier ?? app.verifier
        if !verifier.isEmpty { parameters.append(("code_verifier", verifier)) }
        if app.client.secret == nil {
            parameters.append(("client_id", app.client.clientID))
            return try await token(parameters)
        }
        return try await token(parameters, basic: app.client)
    }

    /// The refresh grant, authenticated as `exchange` authenticates.
    func refresh(_ refreshToken: String, app: App) async throws -> HTTPReply {
        let parameters = [("grant_type", "refresh_token"), ("refresh_token", refreshToken)]
        if app.client.secret == nil { return try await token(parameters + [("client_id", app.client.clientID)]) }
        return try await token(parameters, basic: app.client)
    }
}

extension Browser {
    /// Signs in at the login page `authorize` leads to (unless the browser's session makes
    /// it go straight back) and follows the redirects to the app: the query its redirect URI receives.
    func signIn(_ uri: String, username: String = "alice", password: String = "pw") async throws -> [String: String] {
        let page = try await get(uri)
        if let query = App.callback(page) { return query }
        #expect(page.status == 200, "the login page: \(page)")
        let login = try await submitLogin(page: page, username: username, password: password)
        #expect(login.status == 303, "\(login)")
        let again = try await get(try #require(login.header("Location")))
        return try #require(App.callback(again), "no redirect to the app: \(again)")
    }
}
