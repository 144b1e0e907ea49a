import NIOCore
import TOMLSubset
import TokenAuthority

import Foundation

/// Reads `deployment.toml` (README, "Configuration"): every known key is typed and checked; a
/// wrong type or value is an error naming file, line and key; an unknown key is
/// a warning naming it.
public enum ConfigurationLoader {
    public struct Loaded: Sendable {
        public var configuration: DeploymentConfiguration
        /// Keys this server does not know (errors with `--strict-config`).
        public var unknownKeys: [String] = []
        /// Everything else worth a warning: files holding secrets open to other users.
        public var otherWarnings: [String] = []
        /// Every warning, the unknown keys first.
        public var warnings: [String] { unknownKeys + otherWarnings }
    }

    /// Loads `path`. A missing file is an error when `required` (an explicit
    /// `--config`), and otherwise means the embedded defaults.
    public static func load(
        path: String, required: Bool, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Loaded {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw ConfigurationError(file: path, message: "file not found") }
            return Loaded(configuration: DeploymentConfiguration())
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "the file is not UTF-8")
        }
        return try parse(text, file: path, environment: environment)
    }

    public static func parse(_ text: String, file: String, environment: [String: String] = [:]) throws -> Loaded {
        let root: TOMLTable
        do {
            root = try TOML.parse(text)
        } catch {
            throw ConfigurationError(
                file: file, line: error.line, column: error.column, key: error.key, message: "invalid TOML: \(error.message)")
        }
        var reader = TOMLReader(root: root, file: file)
        var config = DeploymentConfiguration()

        try reader.read("server.hostname", into: &config.server.hostname)
        try reader.read("server.port", into: &config.server.port, in: 0...65535)
        try reader.read("server.tls.enabled", into: &config.server.tls.enabled)
        try reader.read("server.tls.certificate", into: &config.server.tls.certificate)
        try reader.read("server.tls.private_key", into: &config.server.tls.privateKey)
        var warnings: [String] = []
        try DatabaseConfiguration.read(
            &reader, into: &config.database, environment: environment, warnings: &warnings)
        try reader.read("super_admin.username", into: &config.superAdmin.username)
        if !config.superAdmin.username.isEmpty, let problem = IdentifierRules.usernameProblem(config.superAdmin.username) {
            throw reader.error(at: "super_admin.username", problem)
        }
        config.superAdmin.password = try reader.optionalString("super_admin.password")
        try reader.read("super_admin.create_admin_account", into: &config.superAdmin.createAdminAccount)
        config.configuredIssuer = try reader.optionalString("oauth.issuer")
        if let issuer = config.configuredIssuer, !Self.isIssuerURL(issuer) {
            throw reader.error(at: "oauth.issuer", "must be an http or https URL without query or fragment (RFC 8414 §2), found '\(issuer)'")
        }
        config.jwt.signingKey = try reader.optionalString("oauth.jwt.signing_key")
        try reader.readScopePatterns("oauth.allowed_scopes", into: &config.oauth.allowedScopes)
        try reader.read(
            "oauth.token_renewal.renew_access_token_per_request", into: &config.oauth.renewAccessTokenPerRequest)
        try reader.read("oauth.token_renewal.renew_refresh_token", into: &config.oauth.renewRefreshToken)
        try reader.read(
            "oauth.token_renewal.extend_refresh_token_expiry_time_on_renewal",
            into: &config.oauth.extendRefreshTokenExpiryTimeOnRenewal)
        try reader.readDuration(
            "oauth.token_validation.app_access_token_validity", into: &config.oauth.appAccessTokenValidity)
        try reader.readDuration(
            "oauth.token_validation.user_access_token_validity", into: &config.oauth.userAccessTokenValidity)
        try reader.readDuration("oauth.token_validation.refresh_token_validity", into: &config.oauth.refreshTokenValidity)
        try reader.read("oauth.token_cleanup.enable", into: &config.tokenCleanup.enable)
        try reader.readDuration(
            "oauth.token_cleanup.retain_inactive_tokens_for", into: &config.tokenCleanup.retainInactiveTokensFor)

        try readSecurity(&reader, into: &config.security)
        try readLogging(&reader, into: &config.logging)
        try reader.readDuration("oauth.device_authorization.expires_in", into: &config.deviceAuthorization.expiresIn)
        try reader.read("oauth.device_authorization.interval", into: &config.deviceAuthorization.interval, in: 1...60)
        try reader.read(
            "oauth.device_authorization.user_code_failures_per_source_per_minute",
            into: &config.deviceAuthorization.failuresPerSourcePerMinute, in: 1...10_000)
        try reader.read(
            "oauth.device_authorization.user_code_failures_per_minute",
            into: &config.deviceAuthorization.failuresPerMinute, in: 1...100_000)
        try reader.read("sign_in.product_name", into: &config.signIn.productName)
        guard (1...80).contains(config.signIn.productName.count) else {
            throw reader.error(at: "sign_in.product_name", "must be 1 to 80 characters")
        }
        config.signIn.logoFile = try reader.optionalString("sign_in.logo_file")
        try reader.readDuration("sign_in.session_lifetime", into: &config.signIn.sessionLifetime)

        for (name, value) in [
            ("server.hostname", config.server.hostname), ("database.path", config.database.path),
            ("database.key_file", config.database.keyFile), ("super_admin.username", config.superAdmin.username),
            ("server.tls.certificate", config.server.tls.certificate),
            ("server.tls.private_key", config.server.tls.privateKey), ("oauth.jwt.signing_key", config.jwt.signingKey ?? "-"),
            ("super_admin.password", config.superAdmin.password ?? "-"),
        ] where value.isEmpty {
            throw reader.error(at: name, "must not be empty")
        }
        // Existing files that hold secrets, open to other users (README, "Private files").
        var secretFiles = [("database.key_file", config.database.keyFile)]
        if config.server.tls.enabled { secretFiles.append(("server.tls.private_key", config.server.tls.privateKey)) }
        if let signingKey = config.jwt.signingKey { secretFiles.append(("oauth.jwt.signing_key", signingKey)) }
        for (name, path) in secretFiles {
            if let warning = SecretFile.openToOthersWarning(path) { warnings.append("\(name) \(warning)") }
        }
        return Loaded(configuration: config, unknownKeys: reader.unknownKeyWarnings(), otherWarnings: warnings)
    }

    private static func readSecurity(_ reader: inout TOMLReader, into security: inout SecuritySettings) throws {
        let perMinute = 0...1_000_000
        try reader.read("security.account_locking.enable", into: &security.accountLocking.enable)
        try reader.read(
            "security.account_locking.allowed_failed_attempts", into: &security.accountLocking.allowedFailedAttempts,
            in: 1...1000)
        try reader.readDuration(
            "security.account_locking.auto_unlock_after", into: &security.accountLocking.autoUnlockAfter)
        try reader.read(
            "security.source_limits.failed_client_authentications_per_minute",
            into: &security.sourceLimits.failedClientAuthenticationsPerMinute, in: perMinute)
        try reader.read(
            "security.source_limits.failed_logins_per_minute", into: &security.sourceLimits.failedLoginsPerMinute,
            in: perMinute)
        try reader.read("security.source_limits.trusted_proxies", into: &security.sourceLimits.trustedProxies)
        for proxy in security.sourceLimits.trustedProxies where (try? SocketAddress(ipAddress: proxy, port: 0)) == nil {
            throw reader.error(at: "security.source_limits.trusted_proxies", "'\(proxy)' is not an IP address")
        }
        try reader.read(
            "security.client_limits.requests_per_second", into: &security.clientLimits.requestsPerSecond, in: perMinute)
        try reader.read("security.client_limits.burst", into: &security.clientLimits.burst, in: perMinute)
        try reader.read("security.http.max_body_size", into: &security.http.maxBodySize, in: 1024...16 * 1024 * 1024)
        try reader.read("security.http.max_header_size", into: &security.http.maxHeaderSize, in: 1024...1024 * 1024)
        try reader.readDuration("security.http.request_timeout", into: &security.http.requestTimeout)
    }

    private static func readLogging(
        _ reader: inout TOMLReader, into logging: inout DeploymentConfiguration.Logging
    ) throws {
        try reader.read("logging.level", into: &logging.level)
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logging.level) else {
            throw reader.error(at: "logging.level", "must be one of \(levels.joined(separator: ", ")), found '\(logging.level)'")
        }
        var format = logging.format.rawValue
        try reader.read("logging.format", into: &format)
        guard let parsed = DeploymentConfiguration.Logging.Format(rawValue: format) else {
            throw reader.error(at: "logging.format", "must be \"text\" or \"json\", found '\(format)'")
        }
        logging.format = parsed
    }

    private static func isIssuerURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme, ["https", "http"].contains(scheme),
            url.host?.isEmpty == false
        else { return false }
        return url.query == nil && url.fragment == nil && !text.hasSuffix("/")
    }
}
