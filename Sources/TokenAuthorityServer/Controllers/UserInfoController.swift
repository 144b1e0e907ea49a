import Hummingbird
import TokenAuthority

/// `GET` and `POST /oauth2/userinfo` (OpenID Connect Core §5.3.1), a protected resource:
/// the token comes in the `Authorization` header (RFC 6750 §2.1), and the errors carry
/// RFC 6750 §3's `WWW-Authenticate: Bearer` challenge.
struct UserInfoController {
    let endpoint: UserInfoEndpoint

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/oauth2/userinfo", use: userInfo)
        routes.post("/oauth2/userinfo", use: userInfo)
        return routes
    }

    @Sendable func userInfo(_ request: Request, context: AppRequestContext) async throws -> Response {
        var failure: OAuthError?
        let response = await OAuthHTTP.respond(context: context) {
            do {
                return OAuthHTTP.response(
                    status: .ok, json: try await endpoint.handle(authorization: OAuthHTTP.authorization(request.headers)))
            } catch let error as OAuthError {
                failure = error
                throw error
            }
        }
        guard let failure, failure.status == 401 || failure.status == 403 else { return response }
        // RFC 6750 §3: the challenge names the error, except when there was no token at all.
        var answered = response
        answered.headers[.wwwAuthenticate] =
            failure == UserInfoEndpoint.missingToken
            ? "Bearer realm=\"token-authority\""
            : "Bearer realm=\"token-authority\", error=\"\(failure.code.rawValue)\""
        return answered
    }
}
