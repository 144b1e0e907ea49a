import Foundation
import Testing
import TokenAuthorityTesting

// deployment.toml mistakes (README, "Configuration: `deployment.toml`"): errors name file, line and
// key, and stop the command before it does anything; unknown keys are only warnings.

@Suite("Configuration errors")
struct ConfigurationTests {
    /// A deployment.toml with one line replaced, and the key its error must name.
    struct Broken: Sendable, CustomTestStringConvertible {
        var config: String
        var faultyLine: String
        var key: String?

        init(replacing original: String, with faultyLine: String, key: String?) {
            config = deploymentConfig().replacingOccurrences(of: original, with: faultyLine)
            self.faultyLine = faultyLine
            self.key = key
        }

        /// The 1-based number of the faulty line.
        var line: Int {
            (config.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == faultyLine } ?? -1) + 1
        }

        var testDescription: String { faultyLine }
    }

    static let broken: [Broken] = [
        Broken(replacing: "port = 0", with: #"port = "abc""#, key: "server.port"),
        Broken(replacing: "port = 0", with: "port = 70000", key: "server.port"),
        Broken(replacing: "port = 0", with: "port = = 0", key: nil),  // invalid TOML
        Broken(
            replacing: #"user_access_token_validity = "1h""#, with: #"user_access_token_validity = "1 fortnight""#,
            key: "oauth.token_validation.user_access_token_validity"),
        Broken(
            replacing: "renew_access_token_per_request = false", with: #"renew_access_token_per_request = "yes""#,
            key: "oauth.token_renewal.renew_access_token_per_request"),
    ]

    @Test("A broken deployment.toml stops the command with file, line and key", arguments: broken, ["serve", "migrate"])
    func brokenConfiguration(_ broken: Broken, command: String) async throws {
        try #require(broken.line > 0, "the faulty line is missing from the config")
        try await Deployment.with(config: broken.config) { deployment in
            // Given a deployment.toml with one mistake
            // When the command runs
            let result = try await deployment.run([command], timeout: .seconds(30))

            // Then it exits non-zero, naming the file, the line and the key, and serves nothing
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("deployment.toml"), "\(result)")
            #expect(mentionsLine(result.stderr, broken.line), "line \(broken.line): \(result)")
            if let key = broken.key { #expect(result.stderr.contains(key), "\(result)") }
            #expect(!result.stdout.contains("listening"))
        }
    }

    @Test("A hostname that names no address, or a port in use, stops serve before the database is created")
    func unusableAddress() async throws {
        // Given a server listening on a port
        try await Deployment.withServer(config: deploymentConfig()) { running in
            for (original, faulty) in [
                (#"hostname = "127.0.0.1""#, #"hostname = "no-such-host.invalid""#),
                ("port = 0", "port = \(running.port)"),
            ] {
                // When another deployment is served on a hostname that names nothing, or on that port
                try await Deployment.with(config: deploymentConfig().replacingOccurrences(of: original, with: faulty)) {
                    deployment in
                    let result = try await deployment.run(["serve"], timeout: .seconds(30))
                    // Then it stops, naming both keys, before it creates the database or the super admin
                    #expect(result.status != 0, "\(result)")
                    #expect(result.stderr.contains("[server] hostname and port"), "\(result)")
                    #expect(!FileManager.default.fileExists(atPath: deployment.databasePath), "\(faulty)")
                    #expect(!result.stdout.contains("super admin") && !result.stdout.contains("listening"), "\(result)")
                }
            }
        }
    }

    @Test("A missing --config file is an error naming it")
    func missingFile() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            // Given a deployment whose config file was removed
            try FileManager.default.removeItem(atPath: deployment.configPath)

            // When the server is started
            let result = try await deployment.run(["serve"], timeout: .seconds(30))

            // Then it refuses, naming the file
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("deployment.toml"), "\(result)")
        }
    }

    @Test("Unknown keys are warnings naming them, and the server starts")
    func unknownKeys() async throws {
        // Given a deployment.toml with a misspelt key and a key of its own invention
        let config = deploymentConfig(extra: "colour = \"blue\"")
            .replacingOccurrences(of: "hostname = ", with: "hostnme = \"localhost\"\nhostname = ")
        try await Deployment.withServer(config: config) { server async throws in
            // When the server has started
            // Then it serves, and its stderr warns about both keys by name
            #expect(try await server.health().status == 200)
            #expect(server.standardError.contains("server.hostnme"), "\(server.standardError)")
            #expect(server.standardError.contains("oauth.token_validation.colour"), "\(server.standardError)")
        }
    }
}

/// Whether `text` names line `line` as `FILE:LINE` or `line LINE`.
func mentionsLine(_ text: String, _ line: Int) -> Bool {
    text.contains(":\(line):") || text.contains(":\(line) ") || text.lowercased().contains("line \(line)")
}
