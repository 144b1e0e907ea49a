import Foundation
import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "Configuration": `deployment.toml` is TOML; every key is read and typed,
/// absent keys keep their defaults.
@Suite("Configuration: reading deployment.toml")
struct ConfigurationLoaderTests {
    @Test("an empty file: the embedded defaults, no warnings")
    func defaults() throws {
        // Given an empty file (only a comment)
        // When it is parsed
        let loaded = try ConfigurationLoader.parse("# nothing configured\n", file: "deployment.toml")

        // Then every value is the documented default
        let config = loaded.configuration
        #expect(loaded.warnings.isEmpty)
        #expect(config.server.hostname == "0.0.0.0")
        #expect(config.server.port == 9443)
        #expect(config.server.tls.enabled == true)
        #expect(config.issuer() == "https://localhost:9443")
        #expect(config.jwt.signingKey == nil)
        #expect(config.server.tls.certificate == "data/tls/server.crt")
        #expect(config.server.tls.privateKey == "data/tls/server.key")
        #expect(config.database.path == "data/token-authority.sqlite3")
        #expect(config.superAdmin.username == "admin")
        #expect(config.superAdmin.password == nil)
        #expect(config.superAdmin.createAdminAccount == true)
        #expect(config.oauth.allowedScopes == ["^device_.*", "openid"])
        #expect(config.oauth.renewAccessTokenPerRequest == false)
        #expect(config.oauth.renewRefreshToken == true)
        #expect(config.oauth.extendRefreshTokenExpiryTimeOnRenewal == true)
        #expect(config.oauth.appAccessTokenValidity == 3600)
        #expect(config.oauth.userAccessTokenValidity == 3600)
        #expect(config.oauth.refreshTokenValidity == 86400)
        #expect(config.tokenCleanup.enable == true)
        #expect(config.tokenCleanup.retainInactiveTokensFor == 86400)
    }

    @Test("every documented key is read and typed")
    func everyKey() throws {
        // Given a file setting every key to a value other than its default
        let text = """
            [server]
            hostname = "127.0.0.1"
            port = 8080

            [server.tls]
            enabled = true
            certificate = "/etc/ta/cert.pem"
            private_key = "/etc/ta/key.pem"

            [database]
            path = "/var/lib/ta/db.sqlite3"
            key_file = "/var/lib/ta/db.key"

            [super_admin]
            username = "root"
            password = "correct horse"
            create_admin_account = false

            [oauth]
            allowed_scopes = ["^mobile_.*", "email"]

            [oauth.token_renewal]
            renew_access_token_per_request = true
            renew_refresh_token = false
            extend_refresh_token_expiry_time_on_renewal = false

            [oauth.token_validation]
            app_access_token_validity = "90s"
            user_access_token_validity = "5m"
            refresh_token_validity = "2d"

            [oauth.token_cleanup]
            enable = false
            retain_inactive_tokens_for = 45
            """

        // When it is parsed
        let loaded = try ConfigurationLoader.parse(text, file: "deployment.toml")

        // Then every value is read, with no warning
        let config = loaded.configuration
        #expect(loaded.warnings.isEmpty)
        #expect(config.server.hostname == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.server.tls.enabled == true)
        #expect(config.server.tls.certificate == "/etc/ta/cert.pem")
        #expect(config.server.tls.privateKey == "/etc/ta/key.pem")
        #expect(config.database.path == "/var/lib/ta/db.sqlite3")
        #expect(config.database.keyFile == "/var/lib/ta/db.key")
        #expect(config.superAdmin.username == "root")
        #expect(config.superAdmin.password == "correct horse")
        #expect(config.superAdmin.createAdminAccount == false)
        #expect(config.oauth.allowedScopes == ["^mobile_.*", "email"])
        #expect(config.oauth.renewAccessTokenPerRequest == true)
        #expect(config.oauth.renewRefreshToken == false)
        #expect(config.oauth.extendRefreshTokenExpiryTimeOnRenewal == false)
        #expect(config.oauth.appAccessTokenValidity == 90)
        #expect(config.oauth.userAccessTokenValidity == 300)
        #expect(config.oauth.refreshTokenValidity == 172_800)
        #expect(config.tokenCleanup.enable == false)
        #expect(config.tokenCleanup.retainInactiveTokensFor == 45)
    }

    @Test("TOML's other spellings: dotted keys, inline tables, literal strings")
    func otherTOMLSpellings() throws {
        // Given the same keys written as dotted keys, an inline table and a literal string
        let text = """
            server.port = 1234
            oauth.allowed_scopes = ['^device_\\w+$']
            oauth.token_validation = { app_access_token_validity = "1h", user_access_token_validity = 120 }
            """

        // When it is parsed
        let loaded = try ConfigurationLoader.parse(text, file: "deployment.toml")

        // Then the values are read like any other
        #expect(loaded.warnings.isEmpty)
        #expect(loaded.configuration.server.port == 1234)
        #expect(loaded.configuration.oauth.appAccessTokenValidity == 3600)
        #expect(loaded.configuration.oauth.userAccessTokenValidity == 120)
        #expect(loaded.configuration.oauth.allowedScopes == [#"^device_\w+$"#])
    }

    @Test(
        "durations: \"90s\", \"5m\", \"1h\", \"1d\" or an integer of seconds",
        arguments: [
            (#""90s""#, 90), (#""5m""#, 300), (#""1h""#, 3600), (#""1d""#, 86400), (#""36h""#, 129_600),
            ("90", 90), ("1", 1), ("86400", 86400),
        ])
    func durations(_ value: String, _ seconds: Int) throws {
        // Given each duration key set to the value
        let text = """
            [oauth.token_validation]
            app_access_token_validity = \(value)
            user_access_token_validity = \(value)
            refresh_token_validity = \(value)
            [oauth.token_cleanup]
            retain_inactive_tokens_for = \(value)
            """

        // When it is parsed
        let config = try ConfigurationLoader.parse(text, file: "deployment.toml").configuration

        // Then every duration is that many seconds
        #expect(config.oauth.appAccessTokenValidity == seconds)
        #expect(config.oauth.userAccessTokenValidity == seconds)
        #expect(config.oauth.refreshTokenValidity == seconds)
        #expect(config.tokenCleanup.retainInactiveTokensFor == seconds)
    }

    @Test("an existing key_file, TLS private key or JWT signing key that other users may open is warned about by its key, through links")
    func secretFilesOpenToOthers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        for file in ["token.key", "tls.key", "jwt.pem"] {
            try Data("secret bytes".utf8).write(to: URL(fileURLWithPath: directory.file(file)))
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: directory.file(file))
        }
        // The key file through a symbolic link, as a mounted secret often is: its target's mode counts
        try FileManager.default.createSymbolicLink(
            atPath: directory.file("mounted.key"), withDestinationPath: directory.file("token.key"))
        let text = """
            [server.tls]
            private_key = "\(directory.file("tls.key"))"
            [database]
            key_file = "\(directory.file("mounted.key"))"
            [oauth.jwt]
            signing_key = "\(directory.file("jwt.pem"))"
            """
        #expect(try ConfigurationLoader.parse(text, file: "deployment.toml").warnings.isEmpty)

        for (mode, file) in [(0o644, "token.key"), (0o640, "tls.key"), (0o604, "jwt.pem")] {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: directory.file(file))
        }
        let warnings = try ConfigurationLoader.parse(text, file: "deployment.toml").warnings
        #expect(warnings.count == 3, "\(warnings)")
        for (key, mode) in [("database.key_file", "644"), ("server.tls.private_key", "640"), ("oauth.jwt.signing_key", "604")] {
            #expect(warnings.contains { $0.hasPrefix(key + " ") && $0.contains("(mode \(mode)): chmod 600 it") }, "\(warnings)")
        }
        #expect(!warnings.joined().contains("secret bytes"))
    }

    @Test("a missing file: defaults unless --config named it")
    func missingFile() throws {
        // Given a path where no file is
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("deployment.toml")

        // When it is loaded as the implicit default, the embedded defaults apply
        #expect(try ConfigurationLoader.load(path: path, required: false).configuration.server.port == 9443)

        // When it was named explicitly, it is an error naming the file
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(path: path, required: true)
        }
        #expect(error?.file == path)
        #expect(error?.description.contains(path) == true)
    }
}
