/// The refresh token grant (RFC 6749 §6) with rotation and replay defence
/// (RFC 9700 §4.14.2): always a new access token; the refresh token rotates per
/// `renew_refresh_token`; a rotated-away refresh token presented again revokes
/// its whole family. With `openid` in the granted scope, a new ID token too (OpenID
/// Connect Core 1.0, "Successful Refresh Response").
public struct RefreshTokenGrant: GrantHandler {
    public let grantType = GrantType.refreshToken
    private let store: any RefreshTokenStore & TokenLookupStore
    private let cipher: TokenCipher
    private let minter: AccessTokenMinter
    private let idTokens: IDTokenMinter
    private let settings: OAuthSettings
    private let clock: Clock

    public init(
        store: any RefreshTokenStore & TokenLookupStore, cipher: TokenCipher, minter: AccessTokenMinter,
        idTokens: IDTokenMinter, settings: OAuthSettings, clock: Clock
    ) {
        self.store = store
        self.cipher = cipher
        self.minter = minter
        self.idTokens = idTokens
        self.settings = settings
        self.clock = clock
    }

    public func handle(_ form: FormParameters, client: Client) async throws -> TokenResponse {
        let presented = try form.required("refresh_token")
        let requestedScope = try form["scope"].map { (scope) throws(OAuthError) in try ScopeSet(parsing: scope) }
        let digest = TokenCipher.lookupKey(of: presented)
        let now = clock.now()
        let access = try await newAccessToken(for: client, digest: digest, requestedScope: requestedScope, now: now)
        // A public client's refresh token rotates on every use, whatever renew_refresh_token
        // says: it has no secret, so only rotation detects a stolen one (RFC 9700 §2.2.2).
        var settings = settings
        if client.isPublic { settings.renewRefreshToken = true }
        // A new refresh token only when this request rotates it; its value is kept for the answer.
        let newRefreshValue = settings.renewRefreshToken ? TokenCipher.newToken() : nil
        let newRefresh = try newRefreshValue.map(cipher.seal)
        let policy = RefreshPolicy(
            clientID: client.clientID, requestedScope: requestedScope, settings: settings, now: now,
            newAccess: access.sealed, newRefresh: newRefresh)
        let (outcome, accessValue) = try await access.whileWriting {
            try await store.refresh(digest: digest, at: now, decide: policy.decide)
        }
        switch outcome {
        case .refused(let error):
            throw error
        case .replayed:
            TokenMetrics.refreshReplayDetected()
            throw RefreshPolicy.invalidRefreshToken
        case .rotated(let token, let key, let authTime):
            guard let refresh = token.refreshToken else { throw OAuthError.serverError }
            TokenMetrics.issued(grantType: .refreshToken, format: client.tokenFormat, mode: .new)
            // The pair's refresh token is the one just sealed, or else the presented one, kept:
            // both values are at hand, so no ciphertext is opened.
            let refreshValue =
                if let newRefresh, let newRefreshValue, refresh.ciphertext == newRefresh.ciphertext {
                    newRefreshValue
                } else {
                    presented
                }
            let response = TokenResponse(
                accessToken: accessValue,
                refreshToken: refreshValue,
                scope: key.scope,
                expiresIn: Int(max(0, token.expiresAt - now) / 1000))
            // The ID token names the original authentication: same subject and audience, its
            // auth_time, no nonce (that belonged to the authorization request). A refresh token
            // issued before the store kept auth_time gets none, as the specification allows.
            guard case .user(let username) = key.subject, let authTime else { return response }
            return try await idTokens.adding(
                to: response, username: username, clientID: client.clientID, authTime: authTime, nonce: nil)
        }
    }

    /// The new access token, made before the write transaction (a JWT's signature is
    /// computed beside it, `MintedAccessToken.whileWriting`). A JWT carries the
    /// subject and scope of the presented refresh token's row, read first: they
    /// never change, and `RefreshPolicy` grants exactly that key or refuses.
    private func newAccessToken(
        for client: Client, digest: [UInt8], requestedScope: ScopeSet?, now: EpochMilliseconds
    ) async throws -> MintedAccessToken {
        guard client.tokenFormat == .jwt,
            let row = try await store.findToken(digest: digest, preferring: .refreshToken),
            row.kind == .refreshToken, row.clientID.sameBytes(as: client.clientID)
        else {
            // An opaque client, or a request the policy will refuse: nothing to sign.
            return try minter.mintOpaque()
        }
        let key = TokenKey(clientID: client.clientID, subject: row.subject, scope: requestedScope ?? row.scopeSet)
        let expiresAt = now + EpochMilliseconds(settings.accessTokenValidity(for: key.subject)) * 1000
        return try await minter.mint(.jwt, for: key, issuedAt: now, expiresAt: expiresAt)
    }
}
