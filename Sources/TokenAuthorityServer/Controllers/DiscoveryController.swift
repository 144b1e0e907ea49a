import Hummingbird
import TokenAuthority

/// What a client or resource server learns about this server without
/// credentials: the JWT signing keys (RFC 7517) and the authorization server
/// metadata (RFC 8414).
struct DiscoveryController {
    let services: TokenAuthorityServices

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/oauth2/jwks", use: jwks)
        routes.get("/.well-known/oauth-authorization-server", use: metadata)
        return routes
    }

    /// The current key and every retired key whose tokens may still be unexpired.
    @Sendable func jwks(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            let keys = try await services.store.publishedSigningKeys(at: services.clock.now())
            var object = JSONObjectWriter()
            object.add("keys", json: keys.map(\.publicJWK))
            return Self.publicJSON(object.finish())
        }
    }

    @Sendable func metadata(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            let issuer = services.issuer.current
            var object = JSONObjectWriter()
            object.add("issuer", issuer)
            object.add("token_endpoint", issuer + "/oauth2/token")
            object.add("introspection_endpoint", issuer + "/oauth2/introspect")
            object.add("revocation_endpoint", issuer + "/oauth2/revoke")
            object.add("jwks_uri", issuer + "/oauth2/jwks")
            object.add("grant_types_supported", GrantType.allCases.map(\.rawValue))
            // RFC 8414 §2 requires the member; there is no authorization endpoint, so no response type.
            object.add("response_types_supported", [String]())
            // Each endpoint reads credentials the same way (ClientCredentials): HTTP Basic or the body
            // (RFC 6749 §2.3.1). The super admin's password, at introspection, comes in HTTP Basic.
            let methods = ["client_secret_basic", "client_secret_post"]
            object.add("token_endpoint_auth_methods_supported", methods)
            object.add("revocation_endpoint_auth_methods_supported", methods)
            object.add("introspection_endpoint_auth_methods_supported", methods)
            object.add("scopes_supported", try await knownScopes())
            return Self.publicJSON(object.finish())
        }
    }

    /// The scopes this server can name: the registered clients' scope lists and
    /// the `allowed_scopes` entries that are plain scope names rather than
    /// patterns. Not exhaustive, as RFC 8414 §2 allows: a client without a scope
    /// list may be granted any scope.
    private func knownScopes() async throws -> [String] {
        var scopes = Set(try await services.store.clients().flatMap { $0.scopes ?? [] })
        for pattern in services.configuration.oauth.allowedScopes
        where pattern.allSatisfy({ $0.isLetter || $0.isNumber || "_-:".contains($0) }) {
            scopes.insert(pattern)
        }
        return scopes.sorted()
    }

    /// Public, cacheable for a minute: resource servers fetch the keys again when
    /// they meet an unknown `kid`.
    private static func publicJSON(_ body: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=60"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
