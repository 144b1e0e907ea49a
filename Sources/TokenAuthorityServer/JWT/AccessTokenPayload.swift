import Foundation
import JWTKit
import TokenAuthority

/// The claims of a JWT access token (RFC 9068 §2.2), as jwt-kit encodes them.
struct AccessTokenPayload: JWTPayload {
    var iss: IssuerClaim
    /// The user, or the client for client_credentials (RFC 9068 §2.2).
    var sub: SubjectClaim
    /// The client, as WSO2 API Manager's JWT access tokens have it: no resource
    /// indicator (RFC 8707) is taken at the token endpoint.
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var client_id: String
    var scope: String

    init(_ claims: AccessTokenClaims, issuer: String) {
        iss = IssuerClaim(value: issuer)
        sub = SubjectClaim(value: claims.key.subject.name)
        aud = AudienceClaim(value: [claims.key.clientID])
        // Whole seconds, as NumericDate is written (RFC 7519 §2).
        exp = ExpirationClaim(value: Date(timeIntervalSince1970: TimeInterval(claims.expiresAt / 1000)))
        iat = IssuedAtClaim(value: Date(timeIntervalSince1970: TimeInterval(claims.issuedAt / 1000)))
        jti = IDClaim(value: claims.tokenID)
        client_id = claims.key.clientID
        scope = claims.key.scope.description
    }

    /// Signature only: whether the token is still active is the database's answer
    /// (its row's state and expiry), never the claims'.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
