/// The refresh grant's rules (RFC 6749 §6, RFC 9700 §4.14.2; docs/token-renewal.md,
/// "The refresh grant"), pure: the store runs `decide` inside its write transaction, or on a
/// read whose rotation it applies only if the token is still ACTIVE (`RefreshTokenStore`).
public struct RefreshPolicy: Sendable {
    public var clientID: String
    /// The `scope` parameter; `nil` keeps the original scope.
    public var requestedScope: ScopeSet?
    public var settings: OAuthSettings
    public var now: EpochMilliseconds
    /// The new tokens, sealed before the transaction. The refresh token is prepared only
    /// when `settings.renewRefreshToken` rotates it; `nil` otherwise.
    public var newAccess: SealedToken
    public var newRefresh: SealedToken?

    public init(
        clientID: String, requestedScope: ScopeSet?, settings: OAuthSettings, now: EpochMilliseconds,
        newAccess: SealedToken, newRefresh: SealedToken?
    ) {
        self.clientID = clientID
        self.requestedScope = requestedScope
        self.settings = settings
        self.now = now
        self.newAccess = newAccess
        self.newRefresh = newRefresh
    }

    public static let invalidRefreshToken = OAuthError.invalidGrant.with(description: "Invalid refresh token.")
    public static let expiredRefreshToken = OAuthError.invalidGrant.with(description: "Refresh token is expired.")

    public func decide(_ presented: PresentedRefreshToken?) -> RefreshDecision {
        // Unknown, or another client's: the same answer, and nothing changes.
        guard let presented, presented.clientID.sameBytes(as: clientID) else { return .refuse(Self.invalidRefreshToken) }
        switch presented.state {
        case .inactive:
            // Only rotation makes a refresh token INACTIVE: this one was used already.
            return .replay(familyID: presented.familyID)
        case .revoked:
            return .refuse(Self.invalidRefreshToken)
        case .expired:
            return .refuse(Self.expiredRefreshToken)
        case .active:
            break
        }
        guard presented.expiresAt - now > IssuancePolicy.expiryMargin else { return .refuse(Self.expiredRefreshToken) }
        let scope = requestedScope ?? presented.scope
        guard !scope.isEmpty, scope.isSubset(of: presented.scope) else {
            return .refuse(OAuthError.invalidScope.with(description: "The requested scope exceeds the scope originally granted."))
        }
        let key = TokenKey(clientID: presented.clientID, subject: presented.subject, scope: scope)
        let refresh: RefreshRenewal
        if settings.renewRefreshToken {
            // Rotation is what detects a stolen refresh token: never fall back to keeping it.
            guard let newRefresh else { return .refuse(OAuthError.serverError) }
            refresh =
                settings.extendRefreshTokenExpiryTimeOnRenewal
                ? .replace(newRefresh, issuedAt: now, expiresAt: now + EpochMilliseconds(settings.refreshTokenValidity) * 1000)
                : .replace(newRefresh, issuedAt: presented.issuedAt, expiresAt: presented.expiresAt)
        } else {
            refresh = .keep
        }
        return .rotate(
            RefreshRotation(
                key: key, access: newAccess, issuedAt: now,
                accessExpiresAt: now + EpochMilliseconds(settings.accessTokenValidity(for: presented.subject)) * 1000,
                refresh: refresh))
    }
}
