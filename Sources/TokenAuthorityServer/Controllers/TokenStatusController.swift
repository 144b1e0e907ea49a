import Hummingbird
import TokenAuthority

/// `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009).
struct TokenStatusController {
    let introspection: IntrospectionEndpoint
    let revocation: RevocationEndpoint
    let maximumBodySize: Int

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("/oauth2/introspect", use: introspect)
        routes.post("/oauth2/revoke", use: revoke)
        return routes
    }

    @Sendable func introspect(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            let credentials = try OAuthHTTP.credentials(request, form: form, context: context)
            let answer = try await introspection.handle(form: form, credentials: credentials)
            return OAuthHTTP.response(status: .ok, json: answer.json)
        }
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            let form = try await OAuthHTTP.readForm(request, maximumBodySize: maximumBodySize)
            let credentials = try OAuthHTTP.credentials(request, form: form, context: context)
            try await revocation.handle(form: form, credentials: credentials)
            // RFC 7009 §2.2: 200 with an empty body, never cached.
            return Response(status: .ok, headers: [.cacheControl: "no-store", OAuthHTTP.pragma: "no-cache"])
        }
    }
}
