import Foundation
import JWTKit
import TokenAuthority

/// The claims of an OpenID Connect ID token (OpenID Connect Core §2), as jwt-kit encodes them.
struct IDTokenPayload: JWTPayload {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var auth_time: Int64
    var nonce: String?
    var at_hash: String

    init(_ claims: IDTokenClaims, issuer: String) {
        iss = IssuerClaim(value: issuer)
        sub = SubjectClaim(value: claims.subject)
        aud = AudienceClaim(value: [claims.audience])
        exp = ExpirationClaim(value: Date(timeIntervalSince1970: TimeInterval(claims.expiresAt / 1000)))
        iat = IssuedAtClaim(value: Date(timeIntervalSince1970: TimeInterval(claims.issuedAt / 1000)))
        auth_time = claims.authTime / 1000
        nonce = claims.nonce
        at_hash = claims.accessTokenHash
    }

    /// Verified by relying parties, never by this server.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
