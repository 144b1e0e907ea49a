/// The refresh token grant (RFC 6749 §6) with rotation and replay defence
/// (RFC 9700 §4.14.2): always a new access token; the refresh token rotates per
/// `renew_refresh_token`; a rotated-away refresh token presented again revokes
/// its whole family.
public struct RefreshTokenGrant: GrantHandler {
    public let grantType = GrantType.refreshToken
    private let store: any RefreshTokenStore
    private let cipher: TokenCipher
    private let settings: OAuthSettings
    private let clock: Clock

    public init(store: any RefreshTokenStore, cipher: TokenCipher, settings: OAuthSettings, clock: Clock) {
        self.store = store
        self.cipher = cipher
        self.settings = settings
        self.clock = clock
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let presented = try form.required("refresh_token")
        let requestedScope = try form["scope"].map { (scope) throws(OAuthError) in try ScopeSet(parsing: scope) }
        let now = clock.now()
        let policy = RefreshPolicy(
            clientID: client.clientID, requestedScope: requestedScope, settings: settings, now: now,
            newAccess: try cipher.seal(TokenCipher.newToken()), newRefresh: try cipher.seal(TokenCipher.newToken()))
        switch try await store.refresh(digest: TokenCipher.digest(of: presented), at: now, decide: policy.decide) {
        case .refused(let error):
            throw error
        case .replayed:
            throw RefreshPolicy.invalidRefreshToken
        case .rotated(let token, let scope):
            guard let refresh = token.refreshToken else { throw OAuthError.serverError }
            return TokenResponse(
                accessToken: try cipher.open(token.accessCiphertext),
                refreshToken: try cipher.open(refresh.ciphertext),
                scope: scope,
                expiresIn: Int(max(0, token.expiresAt - now) / 1000))
        }
    }
}
