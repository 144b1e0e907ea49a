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
    /// `trusted_proxies`, as `AppRequestContext.sourceKey` spells them.
    let trustedProxies: Set<String>
    /// The login form's refusal is a page, as the rest of it (docs/browser-sign-in.md).
    let pages: SignInPages

    init(limiter: SourceFailureLimiter, trustedProxies: [String], pages: SignInPages) {
        self.limiter = limiter
        self.pages = pages
        self.trustedProxies = Set(trustedProxies.compactMap { try? SocketAddress(ipAddress: $0, port: 0).ipAddress })
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method == .post, let source = source(of: request, context: context) else {
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

    /// The peer, or behind a trusted proxy the last address of `X-Forwarded-For`
    /// (the one that proxy appended; earlier ones are the client's to invent).
    private func source(of request: Request, context: Context) -> String? {
        guard let peer = context.remoteAddress?.ipAddress, trustedProxies.contains(peer),
            let forwarded = request.headers[values: Self.forwardedFor].last?.split(separator: ",").last
        else { return context.sourceKey }
        let address = forwarded.trimmingCharacters(in: .whitespaces)
        return (try? SocketAddress(ipAddress: address, port: 0)).map { _ in address } ?? context.sourceKey
    }

    private static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
}
