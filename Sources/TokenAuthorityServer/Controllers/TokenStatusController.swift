import Hummingbird
import Logging
import TokenAuthority

/// `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009).
struct TokenStatusController<Context: RequestContext> {
    let introspection: IntrospectionEndpoint
    let revocation: RevocationEndpoint
    let logger: Logger

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("/oauth2/introspect", use: introspect)
        routes.post("/oauth2/revoke", use: revoke)
        return routes
    }

    @Sendable func introspect(_ request: Request, context: Context) async throws -> Response {
        await OAuthHTTP.respond(logger: logger, endpoint: "introspect") {
            let form = try await OAuthHTTP.readForm(request)
            let answer = try await introspection.handle(form: form, authorization: request.headers[.authorization])
            return OAuthHTTP.response(status: .ok, json: answer.json)
        }
    }

    @Sendable func revoke(_ request: Request, context: Context) async throws -> Response {
        await OAuthHTTP.respond(logger: logger, endpoint: "revoke") {
            let form = try await OAuthHTTP.readForm(request)
            try await revocation.handle(form: form, authorization: request.headers[.authorization])
            // RFC 7009 §2.2: 200 with an empty body, never cached.
            return Response(status: .ok, headers: [.cacheControl: "no-store", OAuthHTTP.pragma: "no-cache"])
        }
    }
}
