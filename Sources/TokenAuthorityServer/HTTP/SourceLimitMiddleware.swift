import Hummingbird
import TokenAuthority

/// `[security.source_limits]` on the OAuth endpoints: a source address at its
/// limit of failed client authentications or failed logins gets 429 with
/// `Retry-After` before any credential is checked; every 401 (`invalid_client`)
/// and every failed password login counts against it.
struct SourceLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: SourceFailureLimiter

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .post, let source = context.sourceKey else { return try await next(request, context) }
        if let refusal = limiter.refusal(for: source) {
            context.outcome.error = refusal
            return OAuthHTTP.response(for: refusal)
        }
        let response = try await next(request, context)
        if response.status == .unauthorized {
            limiter.record(.clientAuthentication, from: source)
        } else if context.outcome.error?.isFailedLogin == true {
            limiter.record(.login, from: source)
        }
        return response
    }
}
