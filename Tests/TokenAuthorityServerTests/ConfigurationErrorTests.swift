import GRDB
import HTTPTypes
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "Configuration": wrong types and values are errors naming file, key and line; unknown
/// keys are warnings naming the key; no error repeats the super admin's password.
@Suite("Configuration: errors and warnings")
struct ConfigurationErrorTests {
    struct Mistake: Sendable, CustomTestStringConvertible {
        let name: String
        let text: String
        let key: String
        let line: Int
        var testDescription: String { name }
    }

    static let mistakes: [Mistake] = [
        Mistake(name: "port as a string", text: "[server]\nhostname = \"h\"\nport = \"x\"\n", key: "server.port", line: 3),
        Mistake(name: "port as a float", text: "# comment\n\n[server]\nport = 80.5", key: "server.port", line: 4),
        Mistake(name: "port above 65535", text: "[server]\nport = 70000", key: "server.port", line: 2),
        Mistake(name: "negative port", text: "[server]\nport = -1", key: "server.port", line: 2),
        Mistake(name: "hostname as an integer", text: "[server]\nhostname = 1", key: "server.hostname", line: 2),
        Mistake(name: "empty hostname", text: "[server]\nhostname = \"\"", key: "server.hostname", line: 2),
        Mistake(name: "tls.enabled as a string", text: "[server.tls]\nenabled = \"yes\"", key: "server.tls.enabled", line: 2),
        Mistake(name: "empty certificate path", text: "[server.tls]\ncertificate = \"\"", key: "server.tls.certificate", line: 2),
        // An empty password would let anyone use the admin's Basic credentials ("admin:").
        Mistake(name: "empty super_admin password", text: "[super_admin]\npassword = \"\"", key: "super_admin.password", line: 2),
        Mistake(name: "issuer that is no URL", text: "[oauth]\nissuer = \"tokens\"", key: "oauth.issuer", line: 2),
        Mistake(name: "issuer with a query", text: "[oauth]\nissuer = \"https://a.example?x=1\"", key: "oauth.issuer", line: 2),
        Mistake(name: "signing_key as a table", text: "[oauth.jwt.signing_key]\npath = \"k.pem\"", key: "oauth.jwt.signing_key", line: 1),
        Mistake(name: "database.path as an array", text: "[database]\n\npath = [\"a\"]", key: "database.path", line: 3),
        Mistake(
            name: "create_admin_account as an integer", text: "[super_admin]\ncreate_admin_account = 1",
            key: "super_admin.create_admin_account", line: 2),
        Mistake(
            name: "renew_access_token_per_request as a string",
            text: "[oauth.token_renewal]\nrenew_refresh_token = true\nrenew_access_token_per_request = \"true\"",
            key: "oauth.token_renewal.renew_access_token_per_request", line: 3),
        Mistake(
            name: "allowed_scopes as a string", text: "[oauth]\nallowed_scopes = \"openid\"",
            key: "oauth.allowed_scopes", line: 2),
        Mistake(
            name: "allowed_scopes holding an integer", text: "[oauth]\nallowed_scopes = [\"openid\", 1]",
            key: "oauth.allowed_scopes", line: 2),
        Mistake(
            name: "allowed_scopes holding an invalid regex", text: "[oauth]\nallowed_scopes = [\"^device_.*\", \"(unclosed\"]",
            key: "oauth.allowed_scopes", line: 2),
        Mistake(name: "a table given as a value", text: "server = 5", key: "server", line: 1),
        Mistake(
            name: "a dotted key of the wrong type", text: "[server]\ntls.enabled = 1", key: "server.tls.enabled", line: 2),
        Mistake(
            name: "a wrong type inside an inline table", text: "[server]\nport = 1\ntls = { enabled = \"yes\" }",
            key: "server.tls.enabled", line: 3),
        Mistake(
            name: "CRLF line endings", text: "# deployment.toml\r\n[server]\r\nport = \"x\"\r\n",
            key: "server.port", line: 3),
    ] + durationMistakes

    /// Durations that are not "90s", "5m", "1h", "1d" or a positive integer of seconds.
    static let durationMistakes: [Mistake] = [
        #""5x""#, #""1.5h""#, #""h""#, #""""#, #""0s""#, #""-5m""#, #""10 m""#, #""99999d""#,
        "0", "-1", "1.5", "true", "[1]",
    ].map { value in
        Mistake(
            name: "duration \(value)", text: "[oauth.token_validation]\nuser_access_token_validity = \"1h\"\nrefresh_token_validity = \(value)",
            key: "oauth.token_validation.refresh_token_validity", line: 3)
    }

    @Test(arguments: mistakes)
    func namesKeyAndLine(_ mistake: Mistake) throws {
        // Given a file with one mistake
        // When it is parsed
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(mistake.text, file: "deployment.toml")
        }

        // Then the error names the file, the key and its line, in its description too
        #expect(error?.file == "deployment.toml")
        #expect(error?.key == mistake.key)
        #expect(error?.line == mistake.line)
        // FILE:LINE:COLUMN: KEY: MESSAGE
        #expect(error?.column.map { $0 >= 1 } == true)
        let prefix = "deployment.toml:\(mistake.line):\(error?.column ?? 0): \(mistake.key): "
        #expect(error?.description.hasPrefix(prefix) == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.message.isEmpty == false)
    }

    @Test(
        "invalid TOML names the line",
        arguments: [
            ("[server]\nport = 9443\nhostname = \n", 3),
            ("[server]\nport = 9443\n[server]\nhostname = \"h\"\n", 3),
            ("[server\nport = 1", 1),
            ("\n\n\n\n[database]\npath = \"x\"\npath = \"y\"", 7),
        ])
    func invalidTOML(_ text: String, _ line: Int) throws {
        // Given a file that is not valid TOML
        // When it is parsed
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(text, file: "deployment.toml")
        }

        // Then the error names the file and the line
        #expect(error?.file == "deployment.toml")
        #expect(error?.line == line, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.description.hasPrefix("deployment.toml:\(line):\(error?.column ?? 0): ") == true)
    }

    @Test(
        "an unknown key or table is a warning naming it, not an error",
        arguments: [
            ("[oauth]\nfoo = 1\n", "oauth.foo", 2),
            ("[server]\nport = 1\n[metrics]\nenabled = true\n", "metrics", 3),
            ("debug = true\n[server]\nport = 1\n", "debug", 1),
            ("[oauth.token_validation]\napp_access_token_validity = \"1h\"\nid_token_validity = \"1h\"\n",
             "oauth.token_validation.id_token_validity", 3),
            ("[server.tls]\nenabled = false\nciphers = []\n", "server.tls.ciphers", 3),
        ])
    func unknownKey(_ text: String, _ key: String, _ line: Int) throws {
        // Given a file with a key this version does not know
        // When it is parsed
        let loaded = try ConfigurationLoader.parse(text, file: "deployment.toml")

        // Then one warning names the key and its line, and known keys are still read
        #expect(loaded.warnings.count == 1, "\(loaded.warnings)")
        #expect(loaded.warnings.first?.contains(key) == true, "\(loaded.warnings)")
        #expect(loaded.warnings.first?.contains("deployment.toml:\(line)") == true, "\(loaded.warnings)")
        if text.contains("port = 1") { #expect(loaded.configuration.server.port == 1) }
    }

    @Test("a warning names an unknown key, not its known siblings")
    func knownSiblingsAreNotReported() throws {
        // Given a table with known keys and one unknown one
        let loaded = try ConfigurationLoader.parse(
            "[server]\nhostname = \"h\"\nport = 1\nworkers = 4\n[server.tls]\nenabled = false\n", file: "deployment.toml")

        // Then only the unknown one is reported
        #expect(loaded.warnings.count == 1)
        #expect(loaded.warnings.first?.contains("server.workers") == true)
    }

    static let secret = "Hunter2-very-secret"

    @Test(
        "the super admin's password never appears in an error",
        arguments: [
            // A wrong value elsewhere in the file.
            "[super_admin]\npassword = \"\(secret)\"\n[server]\nport = \"\(secret)\"\n",
            // Its own line is broken TOML in several ways.
            "[super_admin]\npassword = \"\(secret)\n",
            "[super_admin]\npassword = \(secret)\n",
            "[super_admin]\npassword = '\(secret)' '\(secret)'\n",
            "[super_admin]\npassword = \"\(secret)\"\npassword = \"\(secret)\"\n",
            "[super_admin]\npassword = [\"\(secret)\"]\n",
            "[super_admin]\npassword = \"\(secret)\\q\"\n",
            "[super_admin]\npassword = \"\(secret)\u{01}\"\n",
            "[super_admin]\npassword = \"\"\"\(secret)\n",
            "[super_admin]\npassword = \"\(secret)\"\nusername = \"\"\n",
        ])
    func passwordIsNeverEchoed(_ text: String) throws {
        // Given a file holding the password and a mistake
        // When it is parsed
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse(text, file: "deployment.toml")
        }

        // Then the error says what is wrong without repeating the password
        let shown = error.map { "\($0) \($0.message) \($0.key ?? "")" } ?? ""
        #expect(!shown.isEmpty)
        #expect(!shown.contains(Self.secret), "\(shown)")
        #expect(!shown.contains("Hunter2"), "\(shown)")
    }
}
