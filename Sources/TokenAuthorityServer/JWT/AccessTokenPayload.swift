import JWTKit
import TokenAuthority

/// The claims of a JWT access token (RFC 9068 §2.2) as the JSON its payload is.
enum AccessTokenPayload {
    static func json(_ claims: AccessTokenClaims, issuer: String) -> String {
        var payload = JSONObjectWriter()
        payload.add("iss", issuer)
        // The user, or the client for client_credentials (RFC 9068 §2.2).
        payload.add("sub", claims.key.subject.name)
        // The client, as WSO2 API Manager's JWT access tokens have it: no resource
        // indicator (RFC 8707) is taken at the token endpoint. One audience is a
        // string (RFC 7519 §4.1.3).
        payload.add("aud", claims.key.clientID)
        // Whole seconds, as NumericDate is written (RFC 7519 §2).
        payload.add("exp", Int(claims.expiresAt / 1000))
        payload.add("iat", Int(claims.issuedAt / 1000))
        payload.add("jti", claims.tokenID)
        payload.add("client_id", claims.key.clientID)
        payload.add("scope", claims.key.scope.description)
        return payload.finish()
    }
}

/// What introspection reads of a JWT access token once jwt-kit has verified its
/// signature: the `jti`. Whether the token is still active is the database's
/// answer (its row's state and expiry), never the claims'.
struct VerifiedTokenID: JWTPayload {
    var jti: IDClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
