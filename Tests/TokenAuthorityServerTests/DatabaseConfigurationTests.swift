import Foundation
import Testing
import TokenAuthority
import TokenAuthorityServer
import TokenAuthorityTesting

/// README, "Scaling out": `[database] type = "postgresql"` with a URL, the password from
/// the environment or a file (never from the URL, never echoed), TLS and a pool size.
@Suite("Configuration: [database]")
struct DatabaseConfigurationTests {
    private let secret = "s3cret-Pa55-\(UUID().uuidString.prefix(8))"

    private func parse(_ text: String, environment: [String: String] = [:]) throws -> ConfigurationLoader.Loaded {
        try ConfigurationLoader.parse(text, file: "deployment.toml", environment: environment)
    }

    /// The error's text, which must name the place and never the secret.
    private func failure(_ text: String, environment: [String: String] = [:]) -> String {
        do {
            _ = try parse(text, environment: environment)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("SQLite by default, with no PostgreSQL settings")
    func sqliteByDefault() throws {
        let database = try parse("").configuration.database
        #expect(database.type == .sqlite && database.postgresql == nil)
        #expect(database.displayName == "data/token-authority.sqlite3")
    }

    @Test("postgresql: the URL's parts, the password from TOKEN_AUTHORITY_DATABASE_PASSWORD, TLS, CA file and pool size")
    func postgresql() throws {
        let loaded = try parse(
            """
            [database]
            type = "postgresql"
            url = "postgresql://tokens@db.internal:6432/authority"
            tls = "verify-full"
            ca_file = "/etc/ssl/db-ca.pem"
            pool_size = 24
            """, environment: ["TOKEN_AUTHORITY_DATABASE_PASSWORD": secret])
        let settings = try #require(loaded.configuration.database.postgresql)
        #expect(loaded.configuration.database.type == .postgresql)
        #expect(settings.host == "db.internal" && settings.port == 6432)
        #expect(settings.username == "tokens" && settings.database == "authority")
        #expect(settings.password == secret)
        #expect(settings.tls == .verifyFull && settings.caFile == "/etc/ssl/db-ca.pem" && settings.poolSize == 24)
        // And what the logs may show has no password
        #expect(loaded.configuration.database.displayName == "postgresql://tokens@db.internal:6432/authority")
        #expect(loaded.warnings.isEmpty)
    }

    @Test("password_file: its first line; the environment variable wins; a file others can read is warned about")
    func passwordFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.file("db-password")
        try Data((secret + "\n").utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        let text = """
            [database]
            type = "postgresql"
            url = "postgresql://tokens@127.0.0.1/authority"
            password_file = "\(file)"
            """
        let loaded = try parse(text)
        #expect(loaded.configuration.database.postgresql?.password == secret)
        #expect(loaded.configuration.database.postgresql?.port == 5432)
        #expect(loaded.warnings.isEmpty)
        #expect(try parse(text, environment: ["TOKEN_AUTHORITY_DATABASE_PASSWORD": "other"]).configuration.database
            .postgresql?.password == "other")

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let warnings = try parse(text).warnings
        #expect(warnings.count == 1 && warnings.first?.contains("chmod 600") == true, "\(warnings)")
        #expect(!warnings.joined().contains(secret))
    }

    @Test("A password in the URL is refused without repeating it")
    func passwordInURL() {
        let message = failure(
            """
            [database]
            type = "postgresql"
            url = "postgresql://tokens:\(secret)@db/authority"
            """)
        #expect(message.hasPrefix("deployment.toml:3:"), "\(message.replacingOccurrences(of: secret, with: "***"))")
        #expect(message.contains("database.url") && message.contains("TOKEN_AUTHORITY_DATABASE_PASSWORD"))
        #expect(!message.contains(secret))
    }

    @Test(
        "Mistakes name file, line and key",
        arguments: [
            ("[database]\ntype = \"mysql\"\n", "deployment.toml:2:", "database.type"),
            ("[database]\ntype = \"postgresql\"\n", "deployment.toml", "database.url"),
            ("[database]\ntype = \"postgresql\"\nurl = \"mysql://a@b/c\"\n", "deployment.toml:3:", "database.url"),
            ("[database]\ntype = \"postgresql\"\nurl = \"postgresql://db/c\"\n", "deployment.toml:3:", "names no user"),
            ("[database]\ntype = \"postgresql\"\nurl = \"postgresql://a@db/\"\n", "deployment.toml:3:", "names no database"),
            ("[database]\ntype = \"postgresql\"\nurl = \"postgresql://a@db/c?sslmode=require\"\n", "deployment.toml:3:", "no query"),
            ("[database]\npool_size = \"ten\"\n", "deployment.toml:2:", "database.pool_size"),
            ("[database]\npool_size = 0\n", "deployment.toml:2:", "database.pool_size"),
            ("[database]\ntype = \"postgresql\"\nurl = \"postgresql://a@db/c\"\ntls = \"prefer\"\n", "deployment.toml:4:", "database.tls"),
            ("[database]\ntype = \"postgresql\"\nurl = \"postgresql://a@db/c\"\npassword_file = \"/nonexistent/pw\"\n", "deployment.toml:4:", "database.password_file"),
            ("[database]\ntype = 7\n", "deployment.toml:2:", "database.type"),
        ])
    func mistakes(text: String, place: String, naming: String) {
        let message = failure(text)
        #expect(message.hasPrefix(place) && message.contains(naming), "\(message)")
    }
}
