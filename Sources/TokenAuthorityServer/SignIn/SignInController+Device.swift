import Foundation
import HTTPTypes
import Hummingbird
import TokenAuthority

// The device authorization grant over HTTP (RFC 8628; docs/device-sign-in.md): the device's
// request, and `/device`, where the user enters its code, signs in and approves or denies.
extension SignInController {
    // MARK: POST /oauth2/device_authorization

    @Sendable func deviceAuthorization(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            let client = try await services.deviceClientAuthenticator.authenticate(
                try OAuthHTTP.credentials(request, form: form, context: context))
            let started = try await services.deviceAuthorization.start(client: client, requestedScope: form["scope"])
            let display = UserCode.display(started.userCode)
            let verification = services.issuer.current + "/device"
            var object = JSONObjectWriter()
            object.add("device_code", started.deviceCode)
            object.add("user_code", display)
            object.add("verification_uri", verification)
            object.add("verification_uri_complete", verification + "?user_code=" + display)
            object.add("expires_in", started.expiresIn)
            object.add("interval", started.interval)
            return OAuthHTTP.response(status: .ok, json: object.finish())
        }
    }

    // MARK: /device

    /// The code form, or with `?user_code=` (`verification_uri_complete`) the next step at once.
    @Sendable func devicePage(_ request: Request, context: AppRequestContext) async throws -> Response {
        await respond(context: context) {
            let csrf = csrfCookie(request)
            guard let typed = request.uri.queryParameters["user_code"].map(String.init), !typed.isEmpty else {
                return pages.deviceCode(csrf: services.loginCSRF.token(for: csrf), extraHeaders: csrfHeader(csrf))
            }
            return try await deviceStep(typed, request: request, context: context, csrf: csrf)
        }
    }

    /// The code form's answer.
    @Sendable func deviceCodeEntered(_ request: Request, context: AppRequestContext) async throws -> Response {
        await respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            let csrf = csrfCookie(request)
            guard services.loginCSRF.isValid(token: form["csrf"], cookie: request.cookies[LoginCSRF.cookieName]?.value)
            else { return expiredForm() }
            return try await deviceStep(form["user_code"] ?? "", request: request, context: context, csrf: csrf)
        }
    }

    /// A typed code: wrong, counted (RFC 8628 §5.1); right, the login page or, signed in, the approval.
    private func deviceStep(_ typed: String, request: Request, context: AppRequestContext, csrf: String) async throws
        -> Response
    {
        guard let (code, pending) = try await services.deviceAuthorization.pending(userCode: typed),
            let client = try await services.store.client(id: pending.clientID)
        else {
            try await services.deviceAuthorization.recordWrongUserCode(
                source: services.requestSource.of(request, context: context) ?? "local")
            return pages.deviceCode(
                csrf: services.loginCSRF.token(for: csrf), userCode: String(typed.prefix(20)),
                error: "That code is not valid, or it has expired. Check the code on your device.", status: .badRequest,
                extraHeaders: csrfHeader(csrf))
        }
        context.outcome.clientID = client.clientID
        let display = UserCode.display(code)
        guard let session = try await services.signIn.session(cookie: request.cookies[Self.sessionCookie]?.value) else {
            return pages.login(
                SignInPages.Login(
                    clientName: client.name, csrf: services.loginCSRF.token(for: csrf), request: "", userCode: display),
                extraHeaders: csrfHeader(csrf))
        }
        return pages.deviceApproval(
            csrf: services.loginCSRF.token(for: csrf), userCode: display, clientName: client.name,
            scopes: pending.scope.split(separator: " ").map(String.init), username: session.username,
            extraHeaders: csrfHeader(csrf))
    }

    /// Approve or deny, signed in.
    @Sendable func deviceDecision(_ request: Request, context: AppRequestContext) async throws -> Response {
        await respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            guard services.loginCSRF.isValid(token: form["csrf"], cookie: request.cookies[LoginCSRF.cookieName]?.value)
            else { return expiredForm() }
            guard let session = try await services.signIn.session(cookie: request.cookies[Self.sessionCookie]?.value)
            else {
                return pages.message(
                    title: "Signed out", text: "Your session ended. Enter the code again.", status: .unauthorized)
            }
            let approve = form["decision"] == "approve"
            guard
                try await services.deviceAuthorization.decide(
                    userCode: form["user_code"] ?? "", approve: approve, session: session)
            else {
                return pages.message(
                    title: "Connect a device", text: "That code is no longer waiting for approval.", status: .badRequest)
            }
            return approve
                ? pages.message(title: "Device connected", text: "You may return to your device.", status: .ok)
                : pages.message(title: "Request denied", text: "The device was not connected.", status: .ok)
        }
    }

    // MARK: Helpers

    /// The browser's CSRF cookie when it has one, else a new one.
    func csrfCookie(_ request: Request) -> String {
        guard let cookie = request.cookies[LoginCSRF.cookieName]?.value, Base64URL.isEncoding(cookie, ofByteCount: 32)
        else { return ClientSecret.generate() }
        return cookie
    }

    func csrfHeader(_ cookie: String) -> HTTPFields {
        [
            .setCookie: Cookie(
                name: LoginCSRF.cookieName, value: cookie, path: "/", secure: true, httpOnly: true, sameSite: .strict
            ).description
        ]
    }

    func expiredForm() -> Response {
        pages.message(
            title: "Sign-in failed", text: "The form has expired. Go back and try again.", status: .badRequest)
    }
}
