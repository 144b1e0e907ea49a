import Hummingbird
import Logging
import TokenAuthority

/// `POST /oauth2/token` (RFC 6749 §4.3, §4.4, §6).
struct TokenController<Context: RequestContext> {
    let endpoint: TokenEndpoint
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("/oauth2/token", use: token)
        return routes
    }

    @Sendable func token(_ request: Request, context: Context) async throws -> Response {
        await OAuthHTTP.respond(logger: logger, endpoint: "token") {
            let form = try await OAuthHTTP.readForm(request)
            let issued = try await endpoint.handle(form: form, authorization: request.headers[.authorization])
            return OAuthHTTP.response(status: .ok, json: issued.json)
        }
    }
}
