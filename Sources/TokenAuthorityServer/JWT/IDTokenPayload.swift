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
