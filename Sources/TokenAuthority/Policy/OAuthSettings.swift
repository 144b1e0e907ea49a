/// The `[oauth…]` part of `deployment.toml`, as the core needs it.
public struct OAuthSettings: Sendable {
    /// `[oauth] allowed_scopes`: regexes (whole-scope match) that bypass scope validation.
    public var allowedScopes: [String]
    /// `[oauth.token_renewal] renew_access_token_per_request`.
    public var renewAccessTokenPerRequest: Bool
    /// `[oauth.token_renewal] renew_refresh_token`.
    public var renewRefreshToken: Bool
    /// `[oauth.token_renewal] extend_refresh_token_expiry_time_on_renewal`.
    public var extendRefreshTokenExpiryTimeOnRenewal: Bool
    /// `[oauth.token_validation] app_access_token_validity`, in seconds (client_credentials).
    public var appAccessTokenValidity: Int
    /// `[oauth.token_validation] user_access_token_validity`, in seconds.
    public var userAccessTokenValidity: Int
    /// `[oauth.token_validation] refresh_token_validity`, in seconds.
    public var refreshTokenValidity: Int

    public init(
        allowedScopes: [String] = ["^device_.*", "openid"],
        renewAccessTokenPerRequest: Bool = false,
        renewRefreshToken: Bool = true,
        extendRefreshTokenExpiryTimeOnRenewal: Bool = true,
        appAccessTokenValidity: Int = 3600,
        userAccessTokenValidity: Int = 3600,
        refreshTokenValidity: Int = 86400
    ) {
        self.allowedScopes = allowedScopes
        self.renewAccessTokenPerRequest = renewAccessTokenPerRequest
        self.renewRefreshToken = renewRefreshToken
        self.extendRefreshTokenExpiryTimeOnRenewal = extendRefreshTokenExpiryTimeOnRenewal
        self.appAccessTokenValidity = appAccessTokenValidity
        self.userAccessTokenValidity = userAccessTokenValidity
        self.refreshTokenValidity = refreshTokenValidity
    }

    /// Access-token validity in seconds for a token of this subject.
    public func accessTokenValidity(for subject: Subject) -> Int {
        switch subject {
        case .user: userAccessTokenValidity
        case .client: appAccessTokenValidity
        }
    }
}
