import Foundation
import Testing
import TokenAuthorityTesting

/// The PostgreSQL cluster `scripts/test` starts for the tests (README, "Scaling out"):
/// `TOKEN_AUTHORITY_TEST_POSTGRES_URL`, e.g. `postgresql://postgres@127.0.0.1:55432/postgres`.
/// Without it the PostgreSQL tests skip.
enum TestPostgres {
    static let url = ProcessInfo.processInfo.environment["TOKEN_AUTHORITY_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }

    /// Whether the PostgreSQL end-to-end tests run: when there is a cluster to run them on.
    static var enabled: Bool { url != nil }

    /// Creates an empty database, runs `body` with its URL, and drops it afterwards.
    static func withDatabase<Result>(_ body: (String) async throws -> Result) async throws -> Result {
        let server = try #require(url, "TOKEN_AUTHORITY_TEST_POSTGRES_URL is not set")
        let name = "e2e_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
        _ = try await psql(server, "CREATE DATABASE \(name)")
        let database = server.replacingOccurrences(
            of: #"/[^/]*$"#, with: "/\(name)", options: .regularExpression)
        do {
            let result = try await body(database)
            _ = try? await psql(server, "DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            _ = try? await psql(server, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    /// The `[database]` section of a deployment on `url`.
    static func databaseSection(_ url: String, poolSize: Int = 8) -> String {
        """
        [database]
        type = "postgresql"
        url = "\(url)"
        pool_size = \(poolSize)
        """
    }

    /// Runs one statement with `psql`, as an operator would; returns its unaligned output.
    static func psql(_ url: String, _ sql: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let text = await Task.detached { String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
            .value
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("psql \(sql): \(errorText)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension Deployment {
    /// The PostgreSQL database the deployment's configuration names; `nil` on SQLite.
    var postgresURL: String? {
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8), text.contains(#"type = "postgresql""#)
        else { return nil }
        return text.firstMatch(of: /\burl = "([^"]+)"/).map { String($0.1) }
    }

    /// One statement on the deployment's database, whichever the store: `sqlite3` or `psql`,
    /// each printing a row as `a|b` lines; trimmed. A failure throws.
    func query(_ sql: String) async throws -> String {
        if let url = postgresURL { return try await TestPostgres.psql(url, sql) }
        return try await sqlite(sql)
    }
}
