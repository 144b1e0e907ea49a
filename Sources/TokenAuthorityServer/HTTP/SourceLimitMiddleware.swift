import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TokenAuthority

/// `[security.source_limits]` on the OAuth endpoints: a source address at its
/// limit of failed client authentications or failed logins gets 429 with
/// `Retry-After` before any credential is checked. The request runs with a
/// `CredentialCheckGate` for its source, so each secret or password check takes
/// a slot first and counts its own failure; a 401 (`invalid_client`) whose
/// checks counted nothing (malformed or missing credentials) counts one.
struct SourceLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: SourceFailureLimiter
    let source: RequestSource
    /// The login form's refusal is a page, as the rest of it (docs/browser-sign-in.md).
    let pages: SignInPages

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .post, let source = source.of(request, context: context) else {
            return try await next(request, context)
        }
        if let refusal = limiter.refusal(for: source) {
            context.outcome.error = refusal
            return request.uri.path == "/oauth2/login" ? pages.tooManyAttempts(refusal) : OAuthHTTP.response(for: refusal)
        }
        let gate = CredentialCheckGate(limiter: limiter, source: source)
        let response = try await CredentialCheckGate.$current.withValue(gate) { try await next(request, context) }
        if response.status == .unauthorized { gate.recordUnlessCounted(.clientAuthentication) }
        return response
    }
}
