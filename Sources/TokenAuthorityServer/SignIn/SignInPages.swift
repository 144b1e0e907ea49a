import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import TokenAuthority

/// The pages of browser sign-in (docs/browser-sign-in.md, "The login page"),
/// rendered on the server from Mustache templates: no JavaScript, nothing loaded from
/// elsewhere, every value HTML-escaped by the template engine.
struct SignInPages: Sendable {
    /// `[sign_in] product_name`.
    let productName: String
    /// Whether `[sign_in] logo_file` is served at `/oauth2/login/logo`.
    let hasLogo: Bool
    private let library: MustacheLibrary

    init(productName: String, hasLogo: Bool) throws {
        self.productName = productName
        self.hasLogo = hasLogo
        var library = MustacheLibrary()
        try library.register(Self.layout, named: "layout")
        try library.register(Self.login, named: "login")
        try library.register(Self.message, named: "message")
        try library.register(Self.deviceCode, named: "deviceCode")
        try library.register(Self.deviceApproval, named: "deviceApproval")
        self.library = library
    }

    /// What the login form shows and carries.
    struct Login {
        /// The app the user signs in to.
        var clientName: String
        var csrf: String
        /// The authorization request's query string.
        var request: String
        var username = ""
        var error: String?
        /// The device request the login is for (`/device`), instead of an authorization request.
        var userCode: String?
    }

    func login(_ login: Login, status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]) -> Response {
        var values = common(title: "Sign in")
        values["client"] = login.clientName
        values["csrf"] = login.csrf
        values["request"] = login.request
        values["username"] = login.username
        if let error = login.error { values["error"] = error }
        if let userCode = login.userCode { values["userCode"] = userCode }
        return page("login", values, status: status, extraHeaders: extraHeaders)
    }

    /// `/device`: the form where the user types the code the device shows.
    func deviceCode(csrf: String, userCode: String = "", error: String? = nil, status: HTTPResponse.Status = .ok,
                    extraHeaders: HTTPFields = [:]) -> Response
    {
        var values = common(title: "Connect a device")
        values["csrf"] = csrf
        values["userCode"] = userCode
        if let error { values["error"] = error }
        return page("deviceCode", values, status: status, extraHeaders: extraHeaders)
    }

    /// `/device`, signed in: what the device asks for, to approve or deny.
    func deviceApproval(csrf: String, userCode: String, clientName: String, scopes: [String], username: String,
                        extraHeaders: HTTPFields = [:]) -> Response
    {
        var values = common(title: "Connect a device")
        values["csrf"] = csrf
        values["userCode"] = userCode
        values["client"] = clientName
        values["username"] = username
        values["scopes"] = scopes.map { ["name": $0] }
        return page("deviceApproval", values, status: .ok, extraHeaders: extraHeaders)
    }

    /// A page with a heading and one paragraph: an error, or "signed out".
    func message(
        title: String, text: String, status: HTTPResponse.Status, extraHeaders: HTTPFields = [:]
    ) -> Response {
        var values = common(title: title)
        values["text"] = text
        return page("message", values, status: status, extraHeaders: extraHeaders)
    }

    /// `[security.source_limits]` reached on the login form: 429 with `Retry-After`.
    func tooManyAttempts(_ refusal: OAuthError) -> Response {
        message(
            title: "Too many attempts", text: "Too many failed sign-ins from your network. Try again in a minute.",
            status: .tooManyRequests, extraHeaders: [.retryAfter: String(refusal.retryAfter ?? 60)])
    }

    private func common(title: String) -> [String: Any] {
        var values: [String: Any] = ["product": productName, "title": title]
        if hasLogo { values["logo"] = true }
        return values
    }

    private func page(_ template: String, _ values: [String: Any], status: HTTPResponse.Status, extraHeaders: HTTPFields)
        -> Response
    {
        var values = values
        values["content"] = library.render(values, withTemplate: template) ?? ""
        let html = library.render(values, withTemplate: "layout") ?? ""
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers.append(contentsOf: extraHeaders)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Never cached, never framed (clickjacking), never leaking the URL (it holds the
    /// request's state) to another site, nothing but this server's own resources. No
    /// `form-action`: browsers apply it to the redirects after the login form, and the
    /// last of them goes to the app's redirect URI, on another origin.
    static let securityHeaders: HTTPFields = [
        .cacheControl: "no-store",
        OAuthHTTP.pragma: "no-cache",
        .contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
    ]

    // MARK: Templates

    /// Every page: the product's name and logo above the page's own content.
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · {{product}}</title>
        <link rel="stylesheet" href="/oauth2/login/style.css">
        </head>
        <body>
        <main class="card">
        <header>
        {{#logo}}<img class="logo" src="/oauth2/login/logo" alt="">{{/logo}}
        <p class="product">{{product}}</p>
        </header>
        {{{content}}}
        </main>
        </body>
        </html>

        """

    /// The form: labels for every field, the error tied to the fields it is about.
    static let login = """
        <h1>Sign in</h1>
        <p class="lead">to continue to <strong>{{client}}</strong></p>
        {{#error}}<p id="login-error" class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/oauth2/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="request" value="{{request}}">
        {{#userCode}}<input type="hidden" name="user_code" value="{{userCode}}">{{/userCode}}
        <label for="username">Username</label>
        <input id="username" name="username" type="text" value="{{username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus{{#error}} aria-invalid="true" aria-describedby="login-error"{{/error}}>
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required{{#error}} aria-invalid="true" aria-describedby="login-error"{{/error}}>
        <button id="sign-in" type="submit">Sign in</button>
        </form>

        """

    /// RFC 8628 §3.3: the user enters the code shown on the device.
    static let deviceCode = """
        <h1>Connect a device</h1>
        <p class="lead">Enter the code shown on your device.</p>
        {{#error}}<p id="device-error" class="error" role="alert">{{error}}</p>{{/error}}
        <form method="post" action="/device">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="user_code">Code</label>
        <input id="user_code" name="user_code" type="text" value="{{userCode}}" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required autofocus{{#error}} aria-invalid="true" aria-describedby="device-error"{{/error}}>
        <button id="continue" type="submit">Continue</button>
        </form>

        """

    /// The client's name and the scopes it asks for, approved or denied by the signed-in user.
    static let deviceApproval = """
        <h1>Connect a device</h1>
        <p class="lead"><strong>{{client}}</strong> asks to sign in as <strong>{{username}}</strong> with code {{userCode}}.</p>
        <p>It asks for:</p>
        <ul id="scopes">{{#scopes}}<li>{{name}}</li>{{/scopes}}</ul>
        <form method="post" action="/device/decision">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="user_code" value="{{userCode}}">
        <button id="approve" type="submit" name="decision" value="approve">Approve</button>
        <button id="deny" class="secondary" type="submit" name="decision" value="deny">Deny</button>
        </form>

        """

    static let message = """
        <h1>{{title}}</h1>
        <p id="message">{{text}}</p>

        """

    /// The pages' one stylesheet, served from this server (`Content-Security-Policy: default-src 'self'`).
    static let stylesheet = """
        :root { color-scheme: light dark; --accent: #2456d6; --text: #1c1f24; --muted: #5b6270; --line: #d3d8e0; --bg: #f3f5f8; --card: #fff; --error: #b3261e; --on-accent: #fff; }
        @media (prefers-color-scheme: dark) { :root { --accent: #8fb0ff; --text: #e6e8ec; --muted: #a5acb8; --line: #3a404a; --bg: #15181d; --card: #1f232a; --error: #ffb4ab; --on-accent: #0b1a3a; } }
        * { box-sizing: border-box; }
        body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: var(--bg); color: var(--text); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        .card { width: min(400px, calc(100vw - 32px)); background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 32px; box-shadow: 0 8px 24px rgb(0 0 0 / 8%); }
        header { display: flex; align-items: center; gap: 12px; margin-bottom: 24px; }
        .logo { max-height: 40px; max-width: 160px; }
        .product { margin: 0; font-weight: 600; color: var(--muted); }
        h1 { margin: 0 0 4px; font-size: 1.5rem; }
        .lead { margin: 0 0 24px; color: var(--muted); }
        label { display: block; margin: 16px 0 6px; font-weight: 600; font-size: 0.9rem; }
        input[type=text], input[type=password] { width: 100%; padding: 10px 12px; font: inherit; color: inherit; background: transparent; border: 1px solid var(--line); border-radius: 8px; }
        input:focus, button:focus { outline: 3px solid color-mix(in srgb, var(--accent) 40%, transparent); outline-offset: 1px; border-color: var(--accent); }
        input[aria-invalid=true] { border-color: var(--error); }
        button { width: 100%; margin-top: 24px; padding: 11px; font: inherit; font-weight: 600; color: var(--on-accent); background: var(--accent); border: 0; border-radius: 8px; cursor: pointer; }
        button.secondary { margin-top: 12px; color: var(--accent); background: transparent; border: 1px solid var(--line); }
        #scopes { margin: 0 0 8px; padding-left: 20px; }
        .error { margin: 0 0 8px; padding: 10px 12px; border-radius: 8px; color: var(--error); border: 1px solid var(--error); }

        """
}
