import JWTKit
import TokenAuthority

/// The claims of an OpenID Connect ID token (OpenID Connect Core §2) as the JSON its payload is.
enum IDTokenPayload {
    static func json(_ claims: IDTokenClaims, issuer: String) -> String {
        var payload = JSONObjectWriter()
        payload.add("iss", issuer)
        payload.add("sub", claims.subject)
        payload.add("aud", claims.audience)
        // Whole seconds, as NumericDate is written (RFC 7519 §2).
        payload.add("exp", Int(claims.expiresAt / 1000))
        payload.add("iat", Int(claims.issuedAt / 1000))
        payload.add("auth_time", Int(claims.authTime / 1000))
        if let nonce = claims.nonce { payload.add("nonce", nonce) }
        payload.add("at_hash", claims.accessTokenHash)
        return payload.finish()
    }
}

/// What logout reads of an `id_token_hint` once jwt-kit has verified its signature
/// (OpenID Connect RP-Initiated Logout 1.0 §2): whom it was issued by and to. Its
/// expiry is not checked: the hint names a session that may outlive the token, and
/// the specification asks the OP to accept an expired one.
struct IDTokenHint: JWTPayload {
    var iss: IssuerClaim
    var aud: AudienceClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
