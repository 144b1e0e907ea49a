import Crypto

/// The claims of an OpenID Connect ID token (OpenID Connect Core §2), before
/// signing; the signer adds `iss`.
public struct IDTokenClaims: Sendable, Equatable {
    /// `sub`: the username.
    public var subject: String
    /// `aud`: the client.
    public var audience: String
    public var issuedAt: EpochMilliseconds
    public var expiresAt: EpochMilliseconds
    /// When the user entered the password.
    public var authTime: EpochMilliseconds
    public var nonce: String?
    /// `at_hash` (OpenID Connect Core §3.1.3.6).
    public var accessTokenHash: String

    public init(
        subject: String, audience: String, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds,
        authTime: EpochMilliseconds, nonce: String?, accessTokenHash: String
    ) {
        self.subject = subject
        self.audience = audience
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.authTime = authTime
        self.nonce = nonce
        self.accessTokenHash = accessTokenHash
    }
}

/// Adds the ID token to a token response whose scope has `openid` (docs/browser-sign-in.md,
/// "OpenID Connect"): signed ES256 with the current key of `/oauth2/jwks`, valid as
/// long as the access token it comes with.
public struct IDTokenMinter: Sendable {
    private let signer: (any AccessTokenSigner)?
    private let clock: Clock

    public init(signer: (any AccessTokenSigner)?, clock: Clock) {
        self.signer = signer
        self.clock = clock
    }

    /// `response` with an `id_token` for `username` and `clientID` when its scope has
    /// `openid`; unchanged otherwise.
    public func adding(
        to response: TokenResponse, username: String, clientID: String, authTime: EpochMilliseconds?, nonce: String?
    ) async throws -> TokenResponse {
        guard response.scope.scopes.contains("openid") else { return response }
        guard let signer else { throw OAuthError.serverError.with(description: "ID tokens are not configured.") }
        let now = clock.now()
        var answered = response
        answered.idToken = try await signer.signIDToken(
            IDTokenClaims(
                subject: username, audience: clientID, issuedAt: now,
                expiresAt: now + EpochMilliseconds(max(response.expiresIn, 1)) * 1000, authTime: authTime ?? now,
                nonce: nonce, accessTokenHash: Self.accessTokenHash(response.accessToken)))
        return answered
    }

    /// The left half of the SHA-256 of the access token's ASCII, base64url: `at_hash`
    /// for ES256 (OpenID Connect Core §3.1.3.6).
    public static func accessTokenHash(_ accessToken: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(accessToken.utf8))).prefix(16))
    }
}
