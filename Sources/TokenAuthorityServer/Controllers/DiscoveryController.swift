import Hummingbird
import TokenAuthority

/// What a client or resource server learns about this server without
/// credentials: the JWT signing keys (RFC 7517), the authorization server
/// metadata (RFC 8414) and OpenID Connect Discovery's.
struct DiscoveryController {
    let services: TokenAuthorityServices

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("/oauth2/jwks", use: jwks)
        routes.get("/.well-known/oauth-authorization-server", use: metadata)
        routes.get("/.well-known/openid-configuration", use: openIDConfiguration)
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

    /// RFC 8414 §2.
    @Sendable func metadata(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            Self.publicJSON(try await members(openIDConnect: false))
        }
    }

    /// OpenID Connect Discovery 1.0 §3: the same members and OpenID Connect's own.
    @Sendable func openIDConfiguration(_ request: Request, context: AppRequestContext) async throws -> Response {
        await OAuthHTTP.respond(context: context) {
            Self.publicJSON(try await members(openIDConnect: true))
        }
    }

    private func members(openIDConnect: Bool) async throws -> String {
        let issuer = services.issuer.current
        var object = JSONObjectWriter()
        object.add("issuer", issuer)
        object.add("authorization_endpoint", issuer + "/oauth2/authorize")
        object.add("token_endpoint", issuer + "/oauth2/token")
        object.add("introspection_endpoint", issuer + "/oauth2/introspect")
        object.add("revocation_endpoint", issuer + "/oauth2/revoke")
        object.add("userinfo_endpoint", issuer + "/oauth2/userinfo")
        object.add("end_session_endpoint", issuer + "/oauth2/logout")
        object.add("device_authorization_endpoint", issuer + "/oauth2/device_authorization")
        object.add("jwks_uri", issuer + "/oauth2/jwks")
        object.add("grant_types_supported", GrantType.allCases.map(\.rawValue))
        object.add("response_types_supported", ["code"])
        object.add("response_modes_supported", ["query"])
        object.add("code_challenge_methods_supported", ["S256"])
        object.add("authorization_response_iss_parameter_supported", true)
        // Both default to supported when left out (OpenID Connect Discovery §3, RFC 9101 §10.5).
        object.add("request_parameter_supported", false)
        object.add("request_uri_parameter_supported", false)
        // What each endpoint accepts (ClientCredentials, RFC 6749 §2.3.1): HTTP Basic or the
        // body, and client_id alone for a public client at the token and revocation
        // endpoints. Introspection takes a secret: a public client may not introspect.
        let secrets = ["client_secret_basic", "client_secret_post"]
        object.add("token_endpoint_auth_methods_supported", secrets + ["none"])
        object.add("revocation_endpoint_auth_methods_supported", secrets + ["none"])
        object.add("introspection_endpoint_auth_methods_supported", secrets)
        var scopes = try await services.knownScopes.scopes()
        if !scopes.contains("openid") { scopes = (scopes + ["openid"]).sorted() }
        object.add("scopes_supported", scopes)
        if openIDConnect {
            object.add("subject_types_supported", ["public"])
            object.add("id_token_signing_alg_values_supported", ["ES256"])
            object.add("prompt_values_supported", ["login", "none"])
            object.add(
                "claims_supported",
                ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "preferred_username"])
        }
        return object.finish()
    }

    /// Public, cacheable for a minute: resource servers fetch the keys again when
    /// they meet an unknown `kid`.
    private static func publicJSON(_ body: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=60"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
