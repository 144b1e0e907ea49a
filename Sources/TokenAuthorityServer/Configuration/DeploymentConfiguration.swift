import TokenAuthority

/// Everything `deployment.toml` configures (SPEC §3), with the embedded defaults.
/// Every key, its type and its default:
///
/// | key | type | default |
/// | --- | --- | --- |
/// | `server.hostname` | string | `"0.0.0.0"` |
/// | `server.port` | integer 0–65535 | `9443` |
/// | `server.tls.enabled` | boolean | `true` (`false`: plain HTTP behind a TLS-terminating proxy) |
/// | `server.tls.certificate` | string (path) | `"data/tls/server.crt"` (PEM; with the key absent too, a self-signed pair is generated) |
/// | `server.tls.private_key` | string (path) | `"data/tls/server.key"` |
/// | `database.path` | string (path) | `"data/token-authority.sqlite3"` |
/// | `database.key_file` | string (path) | `"data/token-authority.key"` (token encryption key, created 0600) |
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

    public struct Database: Sendable {
        public var path = "data/token-authority.sqlite3"
        public var keyFile = "data/token-authority.key"
    }

    public struct SuperAdmin: Sendable {
        public var username = "admin"
        public var password: String?
        public var createAdminAccount = true
    }

    public struct JWT: Sendable {
        /// A PEM ECDSA P-256 private key; `nil`: the key is managed in the database.
        public var signingKey: String?
    }

    public struct TokenCleanup: Sendable {
        public var enable = true
        /// Seconds.
        public var retainInactiveTokensFor = 86400
    }

    public var server = Server()
    public var database = Database()
    public var superAdmin = SuperAdmin()
    public var oauth = OAuthSettings()
    /// `oauth.issuer` as configured; `issuer(boundPort:)` is the one in use.
    public var configuredIssuer: String?
    public var jwt = JWT()
    public var tokenCleanup = TokenCleanup()

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
