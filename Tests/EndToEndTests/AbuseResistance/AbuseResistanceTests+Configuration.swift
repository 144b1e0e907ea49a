import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import TokenAuthorityTesting

/// The `[security]` keys of deployment.toml.
extension AbuseResistanceTests {
    // MARK: - Configuration

    /// A `[security]` table with one faulty line, and the key its error must name.
    struct Broken: Sendable, CustomTestStringConvertible {
        var table: String
        var faultyLine: String
        var key: String

        var config: String { deploymentConfig(extra: "[\(table)]\n\(faultyLine)") }

        /// The 1-based number of the faulty line.
        var line: Int {
            (config.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0 == faultyLine } ?? -1) + 1
        }

        var testDescription: String { "[\(table)] \(faultyLine)" }
    }

    static let broken: [Broken] = [
        Broken(table: "security.account_locking", faultyLine: "allowed_failed_attempts = 0", key: "security.account_locking.allowed_failed_attempts"),
        Broken(table: "security.account_locking", faultyLine: #"enable = "yes""#, key: "security.account_locking.enable"),
        Broken(table: "security.account_locking", faultyLine: #"auto_unlock_after = "0s""#, key: "security.account_locking.auto_unlock_after"),
        Broken(
            table: "security.source_limits", faultyLine: "failed_logins_per_minute = -1",
            key: "security.source_limits.failed_logins_per_minute"),
        Broken(table: "security.client_limits", faultyLine: "requests_per_second = 1.5", key: "security.client_limits.requests_per_second"),
        Broken(table: "security.http", faultyLine: #"request_timeout = "soon""#, key: "security.http.request_timeout"),
        Broken(table: "security.http", faultyLine: #"max_body_size = "big""#, key: "security.http.max_body_size"),
        Broken(table: "security.http", faultyLine: "max_header_size = 10", key: "security.http.max_header_size"),
    ]

    @Test("A broken [security] value stops start-up, naming the file, the line and the key", arguments: broken)
    func brokenSecurityValue(_ broken: Broken) async throws {
        try #require(broken.line > 0, "the faulty line is missing from the config")
        try await Deployment.with(config: broken.config) { deployment in
            // Given a deployment.toml with one mistake under [security]
            // When the server is started
            let result = try await deployment.run(["serve"], timeout: .seconds(20))

            // Then it exits non-zero, naming the file, the line and the key, and serves nothing
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("deployment.toml"), "\(result)")
            #expect(mentionsLine(result.stderr, broken.line), "line \(broken.line): \(result)")
            #expect(result.stderr.contains(broken.key), "\(result)")
            #expect(!result.stdout.contains("listening"))
        }
    }

    @Test("The [security] section documented in the shipped deployment.toml is accepted as is, without warnings")
    func documentedSection() async throws {
        // Given the [security] tables of the repository's deployment.toml, copied into a test deployment
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try String(contentsOf: repository.appendingPathComponent("deployment.toml"), encoding: .utf8)
        let lines = shipped.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.hasPrefix("[security") }, "no [security] section in deployment.toml")
        let end = lines[start...].firstIndex { $0.hasPrefix("[") && !$0.hasPrefix("[security") } ?? lines.endIndex
        let section = lines[start..<end].joined(separator: "\n")
        for key in ["allowed_failed_attempts", "auto_unlock_after", "failed_client_authentications_per_minute",
                    "failed_logins_per_minute", "requests_per_second", "burst", "max_body_size", "max_header_size",
                    "request_timeout"] {
            #expect(section.contains(key), "deployment.toml does not document \(key)")
        }

        try await Deployment.withServer(config: withoutAdmin(deploymentConfig(extra: section))) { server async throws in
            // When the server has started
            // Then it serves, and warns about no [security] key
            #expect(try await server.health().status == 200)
            #expect(!server.standardError.contains("unknown key security"), "\(server.standardError)")
        }
    }
}
