import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TokenAuthority

/// Browser sign-in over HTTP (docs/browser-sign-in.md): the authorization endpoint,
/// the login form, logout, and the login page's stylesheet and logo.
struct SignInController {
    let services: TokenAuthorityServices
    let pages: SignInPages
    /// `[sign_in] logo_file`, read at start.
    let logo: SignInLogo?
    let maximumBodySize: Int

    static let sessionCookie = "__Host-token-authority-session"

    /// Paths whose GET changes state (a code issued, a session ended): a HEAD there is
    /// refused with 405 rather than run as the GET it stands for, as the router would,
    /// since HEAD is a safe method (RFC 9110 §9.2.1) that link checkers and prefetchers send.
    static let getOnlyPaths: Set<String> = ["/oauth2/authorize", "/oauth2/logout"]

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/oauth2/authorize", use: authorize)
        routes.post("/oauth2/login", use: login)
        routes.get("/oauth2/logout", use: logout)
        for path in Self.getOnlyPaths {
            routes.head(RouterPath(path)) { _, context in
                MethodNotAllowedMiddleware.refusal(of: .head, allowing: [.get], context: context)
            }
        }
        routes.get("/oauth2/login/style.css", use: stylesheet)
        routes.post("/oauth2/device_authorization", use: deviceAuthorization)
        routes.get("/device", use: devicePage)
        routes.post("/device", use: deviceCodeEntered)
        routes.post("/device/decision", use: deviceDecision)
        if logo != nil { routes.get("/oauth2/login/logo", use: logoImage) }
        return routes
    }

    // MARK: GET /oauth2/authorize

    @Sendable func authorize(_ request: Request, context: AppRequestContext) async throws -> Response {
        await respond(context: context) {
            let authorization = try await services.authorizationRequests.validate(query: request.uri.query ?? "")
            context.outcome.clientID = authorization.client.clientID
            let session = try await services.signIn.session(cookie: request.cookies[Self.sessionCookie]?.value)
            if let session, authorization.isSatisfied(by: session, at: services.clock.now()) {
                return try await codeRedirect(authorization, session: session)
            }
            if authorization.prompt == .noInteraction {
                throw AuthorizationRejection.redirect(
                    redirectURI: authorization.redirectURI,
                    error: OAuthError(.loginRequired, "The user is not signed in."), state: authorization.state)
            }
            return loginPage(for: authorization, csrfCookie: csrfCookie(request))
        }
    }

    /// A code for the signed-in user, sent to the client's redirect URI (RFC 6749 §4.1.2, RFC 9207).
    private func codeRedirect(_ authorization: AuthorizationRequest, session: SessionRecord) async throws -> Response {
        let code = try await services.signIn.issueCode(for: authorization, session: session)
        return Self.redirect(
            to: authorization.redirectURI,
            [("code", code), ("state", authorization.state), ("iss", services.issuer.current)])
    }

    /// The login page, with the form's token for the browser's CSRF cookie (`csrfCookie`:
    /// the one it has, so that two tabs on the login page both work, or a new one).
    private func loginPage(
        for authorization: AuthorizationRequest, csrfCookie cookie: String, username: String = "", error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let headers = csrfHeader(cookie)
        return pages.login(
            SignInPages.Login(
                clientName: authorization.client.name, csrf: services.loginCSRF.token(for: cookie),
                request: authorization.query, username: username, error: error),
            status: status, extraHeaders: headers)
    }

    // MARK: POST /oauth2/login

    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        await respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            guard
                services.loginCSRF.isValid(
                    token: form["csrf"], cookie: request.cookies[LoginCSRF.cookieName]?.value)
            else {
                return pages.message(
                    title: "Sign-in failed",
                    text: "The sign-in form has expired. Go back to the app and sign in again.", status: .badRequest)
            }
            if let userCode = form["user_code"] {
                return try await deviceLogin(form, userCode: userCode, request: request, context: context)
            }
            let authorization = try await services.authorizationRequests.validate(query: form["request"] ?? "")
            context.outcome.clientID = authorization.client.clientID
            let username = form["username"] ?? ""
            guard let password = form["password"], !username.isEmpty,
                let (cookie, _) = try await services.signIn.signIn(username: username, password: password)
            else {
                return loginPage(
                    for: authorization, csrfCookie: csrfCookie(request), username: username,
                    error: "The username or password is incorrect.", status: .unauthorized)
            }
            return signedIn(
                cookie: cookie,
                continueTo: "/oauth2/authorize?"
                    + Self.dropping(AuthorizationRequest.reauthenticationParameters, from: authorization.query))
        }
    }

    /// The login form of `/device`: signed in, back to `/device` with the code, which shows the approval.
    private func deviceLogin(_ form: FormParameters, userCode: String, request: Request, context: AppRequestContext)
        async throws -> Response
    {
        guard let (code, pending) = try await services.deviceAuthorization.pending(userCode: userCode),
            let client = try await services.store.client(id: pending.clientID)
        else {
            return pages.message(
                title: "Connect a device", text: "That code is no longer waiting for approval.", status: .badRequest)
        }
        context.outcome.clientID = client.clientID
        let username = form["username"] ?? ""
        guard let password = form["password"], !username.isEmpty,
            let (cookie, _) = try await services.signIn.signIn(username: username, password: password)
        else {
            let csrf = csrfCookie(request)
            return pages.login(
                SignInPages.Login(
                    clientName: client.name, csrf: services.loginCSRF.token(for: csrf), request: "", username: username,
                    error: "The username or password is incorrect.", userCode: UserCode.display(code)),
                status: .unauthorized, extraHeaders: csrfHeader(csrf))
        }
        return signedIn(cookie: cookie, continueTo: "/device?user_code=" + UserCode.display(code))
    }

    /// `303` to `location` with the new session's cookie, the CSRF cookie forgotten.
    func signedIn(cookie: String, continueTo location: String) -> Response {
        var headers: HTTPFields = [.location: location, .cacheControl: "no-store"]
        headers.append(
            HTTPField(
                name: .setCookie,
                value: Cookie(name: Self.sessionCookie, value: cookie, path: "/", secure: true, httpOnly: true, sameSite: .lax)
                    .description))
        headers.append(HTTPField(name: .setCookie, value: Self.expired(LoginCSRF.cookieName, sameSite: .strict)))
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: GET /oauth2/logout

    /// OpenID Connect RP-Initiated Logout 1.0: ends the session, then goes back to a
    /// registered `post_logout_redirect_uri`, or says so on a page. The client is named
    /// by `client_id` or by the audience of an `id_token_hint` this server issued
    /// (docs/browser-sign-in.md, "Sessions and single sign-on").
    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        await respond(context: context) {
            let parameters: FormParameters
            do throws(OAuthError) {
                parameters = try FormParameters(decoding: Array((request.uri.query ?? "").utf8))
            } catch {
                return pages.message(title: "Sign-out failed", text: error.errorDescription, status: .badRequest)
            }
            let failed = { (text: String) in pages.message(title: "Sign-out failed", text: text, status: .badRequest) }
            var clientID = parameters["client_id"]
            if let hint = parameters["id_token_hint"] {
                guard let audience = await services.signingKeys.audience(ofIDTokenHint: hint) else {
                    return failed("The id_token_hint is not an ID token this server issued.")
                }
                if let named = clientID {
                    // Both given: they must name the same client (RP-Initiated Logout 1.0 §2).
                    guard audience.contains(where: { $0.sameBytes(as: named) }) else {
                        return failed("The client_id is not the audience of the id_token_hint.")
                    }
                } else if audience.count == 1 {
                    clientID = audience[0]
                }
            }
            var destination: String?
            if let uri = parameters["post_logout_redirect_uri"] {
                guard let clientID, let client = try await services.store.client(id: clientID),
                    client.postLogoutRedirectURIs.contains(where: { $0.sameBytes(as: uri) })
                else {
                    return failed("The post_logout_redirect_uri is not registered for the client.")
                }
                context.outcome.clientID = clientID
                destination = uri
            }
            _ = try await services.signIn.signOut(cookie: request.cookies[Self.sessionCookie]?.value)
            let clear: HTTPFields = [.setCookie: Self.expired(Self.sessionCookie, sameSite: .lax)]
            if let destination {
                var response = Self.redirect(to: destination, [("state", parameters["state"])])
                response.headers.append(contentsOf: clear)
                return response
            }
            return pages.message(
                title: "Signed out", text: "You are signed out. You may close this window.", status: .ok,
                extraHeaders: clear)
        }
    }

    // MARK: The page's resources

    @Sendable func stylesheet(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: ByteBuffer(string: SignInPages.stylesheet)))
    }

    @Sendable func logoImage(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let logo else { return Response(status: .notFound) }
        return Response(
            status: .ok,
            headers: [
                .contentType: logo.mediaType, .cacheControl: "public, max-age=3600",
                // An SVG is an image here, never a document that could run script.
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: logo.bytes)))
    }

    // MARK: Answers

    /// Runs a sign-in step: a rejection becomes its page or its redirect, the
    /// per-source limit its 429 page, the database unavailable a 503 page.
    func respond(context: AppRequestContext, _ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch AuthorizationRejection.page(let text) {
            return pages.message(title: "Sign-in failed", text: text, status: .badRequest)
        } catch AuthorizationRejection.redirect(let redirectURI, let error, let state) {
            context.outcome.error = error
            return Self.redirect(
                to: redirectURI,
                [
                    ("error", error.code.rawValue), ("error_description", error.errorDescription), ("state", state),
                    ("iss", services.issuer.current),
                ])
        } catch let error as OAuthError where error.status == 429 {
            context.outcome.error = error
            return pages.tooManyAttempts(error)
        } catch let error as OAuthError where (400..<500).contains(error.status) {
            // The request's own fault, such as a form that is not one (a bad Content-Type,
            // bad percent-encoding, a body too large): its page, never a server failure.
            context.outcome.error = error
            return pages.message(
                title: "Sign-in failed", text: error.errorDescription, status: HTTPResponse.Status(code: error.status))
        } catch let failure as StoreUnavailable {
            context.logger.error("the database is unavailable", metadata: ["error": "\(failure)"])
            context.outcome.error = .serviceUnavailable
            return pages.message(
                title: "Temporarily unavailable", text: "The sign-in service is temporarily unavailable. Try again shortly.",
                status: .serviceUnavailable, extraHeaders: [.retryAfter: "5"])
        } catch {
            context.logger.error("unexpected failure", metadata: ["error": "\(String(reflecting: error))"])
            context.outcome.error = .serverError
            return pages.message(
                title: "Something went wrong", text: "The sign-in could not be completed. Try again.",
                status: .internalServerError)
        }
    }

    /// `303 See Other` to `uri` with `parameters` added to its query (absent ones left out).
    static func redirect(to uri: String, _ parameters: [(String, String?)]) -> Response {
        let query = parameters.compactMap { name, value in value.map { "\(name)=\(QueryEncoding.component($0))" } }
            .joined(separator: "&")
        let location = query.isEmpty ? uri : uri + (uri.contains("?") ? "&" : "?") + query
        return Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// `query` without the parameters `names`, the others as they were.
    static func dropping(_ names: Set<String>, from query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: true)
            .filter { part in
                let key = part.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                return !names.contains(key.removingPercentEncoding ?? key)
            }
            .joined(separator: "&")
    }

    /// A `Set-Cookie` that makes the browser forget `name`.
    static func expired(_ name: String, sameSite: Cookie.SameSite) -> String {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: true, httpOnly: true, sameSite: sameSite).description
    }
}

/// Percent-encoding of a query component: everything but RFC 3986's unreserved characters.
enum QueryEncoding {
    static func component(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                encoded.unicodeScalars.append(UnicodeScalar(byte))
            default:
                encoded += String(format: "%%%02X", byte)
            }
        }
        return encoded
    }
}
