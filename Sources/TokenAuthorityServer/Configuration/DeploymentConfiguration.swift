import TokenAuthority

/// Everything `deployment.toml` configures (README, "Configuration"), with the embedded defaults.
/// Every key, its type and its default:
///
/// | key | type | default |
/// | --- | --- | --- |
/// | `server.hostname` | string | `"0.0.0.0"` |
/// | `server.port` | integer 0–65535 | `9443` |
/// | `server.tls.enabled` | boolean | `true` (`false`: plain HTTP behind a TLS-terminating proxy) |
/// | `server.tls.certificate` | string (path) | `"data/tls/server.crt"` (PEM; with the key absent too, a self-signed pair is generated) |
/// | `server.tls.private_key` | string (path) | `"data/tls/server.key"` |
/// | `database.type` | `"sqlite"` or `"postgresql"` | `"sqlite"` |
/// | `database.path` | string (path) | `"data/token-authority.sqlite3"` (SQLite) |
/// | `database.key_file` | string (path) | `"data/token-authority.key"` (token encryption key, created 0600; the same file on every instance) |
/// | `database.url` | string | absent; PostgreSQL: `"postgresql://USER@HOST:PORT/DBNAME"`, no password |
/// | `database.password_file` | string (path) | absent (PostgreSQL; `TOKEN_AUTHORITY_DATABASE_PASSWORD` wins) |
/// | `database.tls` | `"disable"`, `"require"`, `"verify-full"` | `"disable"` (PostgreSQL) |
/// | `database.ca_file` | string (path) | absent: the system's roots (PostgreSQL, `verify-full`) |
/// | `database.pool_size` | integer 1–1000 | `10` (PostgreSQL connections per instance) |
/// | `super_admin.username` | string | `"admin"` |
/// | `super_admin.password` | string | absent: generated on first start, printed once |
/// | `super_admin.create_admin_account` | boolean | `true` |
/// | `oauth.issuer` | string (URL) | `https://HOST:PORT` from `server` (`localhost` for a wildcard address) |
/// | `oauth.allowed_scopes` | array of regex strings | `["^device_.*", "openid"]` |
/// | `oauth.token_renewal.renew_access_token_per_request` | boolean | `false` |
/// | `oauth.token_renewal.renew_refresh_token` | boolean | `true` |
/// | `oauth.token_renewal.extend_refresh_token_expiry_time_on_renewal` | boolean | `true` |
/// | `oauth.token_validation.app_access_token_validity` | duration | `"1h"` |
/// | `oauth.token_validation.user_access_token_validity` | duration | `"1h"` |
/// | `oauth.token_validation.refresh_token_validity` | duration | `"1d"` |
/// | `oauth.jwt.signing_key` | string (path) | absent: an ES256 key generated on first start, kept in the database sealed under `database.key_file` |
/// | `oauth.token_cleanup.enable` | boolean | `true` |
/// | `oauth.token_cleanup.retain_inactive_tokens_for` | duration | `"1d"` |
/// | `security.account_locking.enable` | boolean | `true` (WSO2's account locking for password logins) |
/// | `security.account_locking.allowed_failed_attempts` | integer 1–1000 | `5` (failures in a row that lock the account) |
/// | `security.account_locking.auto_unlock_after` | duration | `"5m"` |
/// | `security.source_limits.failed_client_authentications_per_minute` | integer, 0 = no limit | `60` (per source address; then 429) |
/// | `security.source_limits.failed_logins_per_minute` | integer, 0 = no limit | `30` (per source address; then 429) |
/// | `security.source_limits.trusted_proxies` | array of IP addresses | `[]` (peers whose `X-Forwarded-For` names the source) |
/// | `security.client_limits.requests_per_second` | integer, 0 = no limit | `0` (per client, token and introspection endpoints; then 429) |
/// | `security.client_limits.burst` | integer, 0 = the rate | `0` |
/// | `security.http.max_body_size` | integer of bytes, 1 KiB–16 MiB | `65536` (more: 413) |
/// | `security.http.max_header_size` | integer of bytes, 1 KiB–1 MiB | `16384` (all header fields together; more: 431) |
/// | `security.http.request_timeout` | duration | `"30s"` (to send a whole request; then the connection closes) |
/// | `logging.level` | `"trace"`, `"debug"`, `"info"`, `"notice"`, `"warning"`, `"error"`, `"critical"` | `"info"` (the `LOG_LEVEL` environment variable overrides it) |
/// | `logging.format` | `"text"` or `"json"` | `"text"` (one line per event, `key=value` or a JSON object) |
/// | `oauth.device_authorization.expires_in` | duration | `"10m"` (how long a device's request lives) |
/// | `oauth.device_authorization.interval` | integer of seconds, 1–60 | `5` (between a device's polls) |
/// | `oauth.device_authorization.user_code_failures_per_source_per_minute` | integer 1–10000 | `10` (wrong user codes; then 429) |
/// | `oauth.device_authorization.user_code_failures_per_minute` | integer 1–100000 | `100` (from all sources together) |
/// | `sign_in.product_name` | string, 1–80 characters | `"token-authority"` (the login page's title) |
/// | `sign_in.logo_file` | path to a PNG or SVG of at most 256 KiB | absent (no logo) |
/// | `sign_in.session_lifetime` | duration | `"8h"` (how long a login page session lasts) |
///
/// Durations are `"90s"`, `"5m"`, `"1h"`, `"1d"` or an integer of seconds.
public struct DeploymentConfiguration: Sendable {
    public struct Server: Sendable {
        public var hostname = "0.0.0.0"
        public var port = 9443
        public var tls = TLS()
    }

    public struct TLS: Sendable {
        public var enabled = true
        public var certificate = "data/tls/server.crt"
        public var privateKey = "data/tls/server.key"
    }

    public typealias Database = DatabaseSettings

    public struct SuperAdmin: Sendable {
        public var username = "admin"
        public var password: String?
        public var createAdminAccount = true
    }

    public struct JWT: Sendable {
        /// A PEM ECDSA P-256 private key; `nil`: the key is managed in the database.
        public var signingKey: String?
    }

    /// The login page and its sessions (docs/browser-sign-in.md).
    public struct SignIn: Sendable {
        public var productName = "token-authority"
        public var logoFile: String?
        /// Seconds.
        public var sessionLifetime = 8 * 3600
    }

    public struct TokenCleanup: Sendable {
        public var enable = true
        /// Seconds.
        public var retainInactiveTokensFor = 86400
    }

    public struct Logging: Sendable {
        public enum Format: String, Sendable, CaseIterable {
            case text
            case json
        }

        /// One of swift-log's level names.
        public var level = "info"
        public var format = Format.text
    }

    public var server = Server()
    public var database = Database()
    public var superAdmin = SuperAdmin()
    public var oauth = OAuthSettings()
    /// `oauth.issuer` as configured; `issuer(boundPort:)` is the one in use.
    public var configuredIssuer: String?
    public var jwt = JWT()
    public var tokenCleanup = TokenCleanup()
    public var security = SecuritySettings()
    public var logging = Logging()
    public var signIn = SignIn()
    public var deviceAuthorization = DeviceAuthorizationSettings()

    public init() {}

    /// The `iss` of JWT access tokens and the metadata's `issuer` (RFC 8414 §2).
    /// - Parameter boundPort: the port the server listens on, when known (`port = 0`).
    public func issuer(boundPort: Int? = nil) -> String {
        if let configuredIssuer { return configuredIssuer }
        let wildcard = ["0.0.0.0", "::", "[::]", ""].contains(server.hostname)
        var host = wildcard ? "localhost" : server.hostname
        if host.contains(":"), !host.hasPrefix("[") { host = "[\(host)]" }
        return "\(server.tls.enabled ? "https" : "http")://\(host):\(boundPort ?? server.port)"
    }
}
