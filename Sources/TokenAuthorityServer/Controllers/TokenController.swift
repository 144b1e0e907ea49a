import Hummingbird
import TokenAuthority

/// `POST /oauth2/token` (RFC 6749 §4.3, §4.4, §6).
struct TokenController {
    let endpoint: TokenEndpoint
    let maximumBodySize: Int

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/oauth2/token", use: token)
        return routes
    }

    @Sendable func token(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            let credentials = try OAuthHTTP.credentials(request, form: form, context: context)
            let issued = try await endpoint.handle(form: form, credentials: credentials)
            return OAuthHTTP.response(status: .ok, json: issued.json)
        }
    }
}
