/// `[security]` of `deployment.toml`: abuse resistance. The defaults never
/// throttle a well-behaved client: only failures count against a source address,
/// and per-client limits are off until configured.
public struct SecuritySettings: Sendable, Equatable {
    /// WSO2 Identity Server's account locking (`[identity_mgt.account_locking]`).
    public struct AccountLocking: Sendable, Equatable {
        public var enable = true
        /// Failed password logins in a row that lock the account.
        public var allowedFailedAttempts = 5
        /// Seconds the account stays locked.
        public var autoUnlockAfter = 300
        public init() {}
    }

    /// Failures counted per source address (an IPv6 address by its /64) in
    /// one-minute windows; at the limit, the source's OAuth requests answer 429
    /// until the window ends. 0: no limit.
    public struct SourceLimits: Sendable, Equatable {
        public var failedClientAuthenticationsPerMinute = 60
        public var failedLoginsPerMinute = 30
        /// Peers (exact IP addresses) whose `X-Forwarded-For` is believed: behind a
        /// TLS-terminating proxy every request comes from the proxy, so the source
        /// is the address the proxy appended last.
        public var trustedProxies: [String] = []
        public init() {}
    }

    /// Requests per authenticated client on the token and introspection endpoints
    /// (a token bucket). 0: no limit, the default.
    public struct ClientLimits: Sendable, Equatable {
        public var requestsPerSecond = 0
        /// Requests allowed at once above the rate; 0: the rate itself.
        public var burst = 0
        public init() {}
    }

    /// Bounds on what one HTTP request may hold and how long it may take to arrive.
    public struct HTTPLimits: Sendable, Equatable {
        /// Bytes of body; more is 413 `invalid_request` (64 KiB by default;
        /// docs/token-endpoint.md).
        public var maxBodySize = 64 * 1024
        /// Bytes of all header fields together; more is refused by the HTTP decoder.
        public var maxHeaderSize = 16 * 1024
        /// Seconds a client has to send a whole request, counted from the
        /// connection's opening or its previous response; then the connection closes.
        public var requestTimeout = 30
        public init() {}
    }

    public var accountLocking = AccountLocking()
    public var sourceLimits = SourceLimits()
    public var clientLimits = ClientLimits()
    public var http = HTTPLimits()

    public init() {}
}
