import CoreMetrics

/// The token counters of `GET /metrics` (swift-metrics; the server bootstraps
/// the Prometheus backend before anything here is first touched). Counters are
/// made once and kept: creating one looks it up in the backend's registry.
public enum TokenMetrics {
    /// How an issuance ended for its key (docs/token-renewal.md; README,
    /// "Metrics: `GET /metrics`").
    public enum Mode: String, Sendable, CaseIterable {
        /// The key's ACTIVE token was handed back.
        case reused
        /// The ACTIVE token was revoked and a new pair issued (`renew_access_token_per_request`, JWT clients).
        case renewed
        /// The key had no live token: a first token, or one after expiry, or a refresh.
        case new
    }

    /// What a credential check verified: what `credentialChecked` counts.
    public enum Credential: String, Sendable, CaseIterable {
        /// A client id looked up and, when it is registered, its secret's SHA-256 compared.
        case clientSecret = "client_secret"
        /// A password run through the KDF (scrypt): the expensive one.
        case password
    }

    public static func issued(grantType: GrantType, format: AccessTokenFormat, mode: Mode) {
        issuedCounters[IssuedKey(grantType: grantType, format: format, mode: mode)]?.increment()
    }

    /// Creates every counter now, so that a fresh server shows them at 0 rather
    /// than not at all (call after the metrics backend is bootstrapped).
    public static func register() {
        _ = issuedCounters
        _ = (refreshReplays, revocations, accountLocks, credentialChecks)
    }

    /// A rotated-away refresh token was presented again (RFC 9700 §4.14.2); its family was revoked.
    public static func refreshReplayDetected() { refreshReplays.increment() }

    /// A token was revoked through `POST /oauth2/revoke`.
    public static func revoked() { revocations.increment() }

    /// An account locked after `[security.account_locking] allowed_failed_attempts` failures.
    public static func accountLocked() { accountLocks.increment() }

    /// A credential check ran (`[security.source_limits]` bounds how many a source may start).
    public static func credentialChecked(_ credential: Credential) { credentialChecks[credential]?.increment() }

    // MARK: Private

    private struct IssuedKey: Hashable {
        var grantType: GrantType
        var format: AccessTokenFormat
        var mode: Mode
    }

    private static let issuedCounters: [IssuedKey: Counter] = {
        var counters: [IssuedKey: Counter] = [:]
        for grantType in GrantType.allCases {
            for format in AccessTokenFormat.allCases {
                for mode in Mode.allCases {
                    counters[IssuedKey(grantType: grantType, format: format, mode: mode)] = Counter(
                        label: "token_authority_tokens_issued_total",
                        dimensions: [
                            ("grant_type", grantType.rawValue), ("token_type", format.rawValue), ("mode", mode.rawValue),
                        ])
                }
            }
        }
        return counters
    }()
    private static let credentialChecks: [Credential: Counter] = Dictionary(
        uniqueKeysWithValues: Credential.allCases.map {
            ($0, Counter(label: "token_authority_credential_checks_total", dimensions: [("credential", $0.rawValue)]))
        })
    private static let refreshReplays = Counter(label: "token_authority_refresh_replays_total")
    private static let revocations = Counter(label: "token_authority_revocations_total")
    private static let accountLocks = Counter(label: "token_authority_account_locks_total")
}
