/// WSO2 Identity Server's rules for an opaque token request on a key that may already hold an
/// ACTIVE token (docs/token-renewal.md, "Opaque access tokens"). Pure: the store runs it inside its
/// write transaction, and the reuse fast path runs it on a plain read.
public struct IssuancePolicy: Sendable {
    /// A token with this much life or less counts as expired: reuse needs "more than 1 s left"
    /// (docs/token-renewal.md).
    public static let expiryMargin: EpochMilliseconds = 1000

    public var renewPerRequest: Bool
    public var issuesRefreshToken: Bool
    /// Validity of a new access token, in milliseconds.
    public var accessTokenValidity: EpochMilliseconds
    public var now: EpochMilliseconds

    public init(
        renewPerRequest: Bool, issuesRefreshToken: Bool, accessTokenValidity: EpochMilliseconds,
        now: EpochMilliseconds
    ) {
        self.renewPerRequest = renewPerRequest
        self.issuesRefreshToken = issuesRefreshToken
        self.accessTokenValidity = accessTokenValidity
        self.now = now
    }

    public func decide(_ active: StoredToken?) -> IssuanceDecision {
        guard let active else {
            return .issue(retiring: .expired, refresh: newRefreshToken(retiring: .expired))
        }
        if let retiring = renewsRetiring {
            return .renewal(retiring: retiring, withRefreshToken: issuesRefreshToken)
        }
        let refreshLeft = active.refreshToken.map { $0.expiresAt - now }
        if isAlive(active.expiresAt), !issuesRefreshToken || refreshLeft.map({ $0 > Self.expiryMargin }) == true {
            return .reuse
        }
        // The access token (or its refresh token) is spent: the row becomes EXPIRED.
        // The refresh token is carried over when it outlives a new access token.
        if issuesRefreshToken, let refreshLeft, refreshLeft > accessTokenValidity {
            return .issue(retiring: .expired, refresh: .carryOver)
        }
        return .issue(retiring: .expired, refresh: newRefreshToken(retiring: .expired))
    }

    /// `renew_access_token_per_request = true` (and JWT issuance): whatever the ACTIVE pair,
    /// it is revoked and a new one issued. The state it leaves ACTIVE for; `nil` when the
    /// decision depends on the ACTIVE token.
    public var renewsRetiring: TokenState? {
        renewPerRequest ? .revoked : nil
    }

    private func isAlive(_ expiresAt: EpochMilliseconds) -> Bool {
        expiresAt - now > Self.expiryMargin
    }

    private func newRefreshToken(retiring state: TokenState) -> RefreshDisposition {
        issuesRefreshToken ? .issueNew(retiring: state) : .none
    }
}
