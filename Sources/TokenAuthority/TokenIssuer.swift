import Synchronization

/// Issues tokens for a key with WSO2's reuse and renewal semantics (docs/token-renewal.md):
/// decides with `IssuancePolicy`, lets the store apply the decision in one
/// transaction, and opens the stored ciphertexts into the response.
///
/// JWT access tokens follow WSO2 API Manager: a new token on every request,
/// whatever `renew_access_token_per_request` says, the previous ACTIVE token of
/// the key (and its refresh token) REVOKED in the same transaction.
public struct TokenIssuer: Sendable {
    private let store: any TokenStore
    private let cipher: TokenCipher
    private let minter: AccessTokenMinter
    private let settings: OAuthSettings
    private let clock: Clock

    public init(
        store: any TokenStore, cipher: TokenCipher, minter: AccessTokenMinter, settings: OAuthSettings, clock: Clock
    ) {
        self.store = store
        self.cipher = cipher
        self.minter = minter
        self.settings = settings
        self.clock = clock
    }

    /// - Parameter authTime: when the user authenticated for this grant, kept with a new
    ///   refresh token for the ID tokens of its refreshes (OpenID Connect Core 1.0,
    ///   "Successful Refresh Response").
    public func issue(
        for key: TokenKey, grantType: GrantType, format: AccessTokenFormat = .opaque, authTime: EpochMilliseconds? = nil
    ) async throws -> TokenResponse {
        try await issueTokens(for: key, grantType: grantType, format: format, authTime: authTime).response
    }

    /// `issue`, also telling which refresh token family the answer belongs to: what an
    /// authorization code's replay must revoke (RFC 6749 §4.1.2).
    public func issueTokens(
        for key: TokenKey, grantType: GrantType, format: AccessTokenFormat = .opaque, authTime: EpochMilliseconds? = nil
    ) async throws -> IssuedTokens {
        let now = clock.now()
        let accessValidity = EpochMilliseconds(settings.accessTokenValidity(for: key.subject)) * 1000
        let policy = IssuancePolicy(
            renewPerRequest: settings.renewAccessTokenPerRequest || format == .jwt,
            issuesRefreshToken: key.hasRefreshToken, accessTokenValidity: accessValidity, now: now)

        // Reuse fast path: a plain read, no write lock. The write path below decides
        // again inside its transaction, so a race here only costs a transaction.
        if !policy.renewPerRequest, let active = try await store.activeToken(for: key),
            policy.decide(active) == .reuse
        {
            TokenMetrics.issued(grantType: grantType, format: format, mode: .reused)
            return IssuedTokens(
                response: try response(for: active, key: key, now: now), familyID: active.refreshToken?.familyID)
        }

        let access = try await minter.mint(format, for: key, issuedAt: now, expiresAt: now + accessValidity)
        let refreshValue = key.hasRefreshToken ? TokenCipher.newToken() : nil
        let refresh = try refreshValue.map(cipher.seal)
        let newToken = NewTokenPair(
            grantType: grantType,
            access: access.sealed,
            issuedAt: now,
            accessExpiresAt: now + accessValidity,
            refresh: refresh,
            refreshExpiresAt: now + EpochMilliseconds(settings.refreshTokenValidity) * 1000,
            authTime: authTime)
        let ((active, mode), accessValue) = try await access.whileWriting {
            try await write(newToken, for: key, policy: policy)
        }
        TokenMetrics.issued(grantType: grantType, format: format, mode: mode)
        // Unless the transaction found a token to reuse after all, the ACTIVE access token is
        // the one just written, whose value is at hand: no need to open its ciphertext. So is
        // the refresh token, unless the old one was carried over.
        var written = Written()
        if mode != .reused {
            written.access = accessValue
            if let refresh, active.refreshToken?.ciphertext == refresh.ciphertext { written.refresh = refreshValue }
        }
        return IssuedTokens(
            response: try response(for: active, key: key, now: now, written: written),
            familyID: active.refreshToken?.familyID)
    }

    /// Applies `policy` to the key's ACTIVE token in one transaction, writing `newToken` unless
    /// the token is reused after all; returns the key's ACTIVE token after it.
    private func write(
        _ newToken: NewTokenPair, for key: TokenKey, policy: IssuancePolicy
    ) async throws -> (StoredToken, TokenMetrics.Mode) {
        if let retiring = policy.renewsRetiring {
            // Nothing to decide on the ACTIVE token: the store need not read it first.
            let renewed = try await store.renew(newToken, for: key, retiring: retiring)
            return (renewed.token, renewed.retired ? .renewed : .new)
        }
        let outcome = IssuanceOutcome()
        let active = try await store.issue(newToken, for: key) { existing in
            let decision = policy.decide(existing)
            outcome.record(decision, existing: existing)
            return decision
        }
        return (active, outcome.mode)
    }

    /// The values of the ACTIVE token's parts that were just written, when they were.
    private struct Written {
        var access: String?
        var refresh: String?
    }

    /// Opens the stored ciphertexts of what was not just written. A JWT's row keeps no
    /// ciphertext: a JWT is never reused (the policy renews), so it is always just written.
    private func response(
        for token: StoredToken, key: TokenKey, now: EpochMilliseconds, written: Written = Written()
    ) throws -> TokenResponse {
        TokenResponse(
            accessToken: try written.access ?? cipher.open(token.accessCiphertext),
            refreshToken: try written.refresh ?? token.refreshToken.map { try cipher.open($0.ciphertext) },
            scope: key.scope,
            expiresIn: Int(max(0, token.expiresAt - now) / 1000))
    }
}

/// The mode of the decision taken inside the store's transaction (the last one,
/// should the store run it again), for `/metrics`.
private final class IssuanceOutcome: Sendable {
    private let decided = Mutex(TokenMetrics.Mode.new)

    func record(_ decision: IssuanceDecision, existing: StoredToken?) {
        let mode: TokenMetrics.Mode =
            switch decision {
            case .reuse: .reused
            case .issue(retiring: .revoked, _) where existing != nil: .renewed
            case .issue: .new
            }
        decided.withLock { $0 = mode }
    }

    var mode: TokenMetrics.Mode { decided.withLock { $0 } }
}

/// A token response and the refresh token family it belongs to (`nil` for a client's own token).
public struct IssuedTokens: Sendable, Equatable {
    public var response: TokenResponse
    public var familyID: Int64?
}

/// A successful token response (RFC 6749 §5.1), with exactly the seed's members, and
/// an OpenID Connect `id_token` when the scope has `openid` and a user signed in.
public struct TokenResponse: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    public var scope: ScopeSet
    /// OpenID Connect Core §3.1.3.3.
    public var idToken: String?
    /// Remaining lifetime in whole seconds, truncated.
    public var expiresIn: Int

    public init(accessToken: String, refreshToken: String?, scope: ScopeSet, expiresIn: Int) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.scope = scope
        self.expiresIn = expiresIn
    }

    /// `{"access_token":…,"refresh_token":…,"scope":…,"token_type":"Bearer","expires_in":…}`
    public var json: String {
        var object = JSONObjectWriter()
        object.add("access_token", accessToken)
        if let refreshToken { object.add("refresh_token", refreshToken) }
        object.add("scope", scope.description)
        object.add("token_type", "Bearer")
        object.add("expires_in", expiresIn)
        if let idToken { object.add("id_token", idToken) }
        return object.finish()
    }
}
