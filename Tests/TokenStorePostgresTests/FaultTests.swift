import Foundation
import Glibc
import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// README, "Faults", on PostgreSQL: a wrong password or an unreachable server stops
/// start-up with one line naming the database and the reason (never the password),
/// and a server that goes away makes requests fail as `StoreUnavailable` (503), until
/// it is back. These run on a cluster of their own (scripts/postgres-cluster), which
/// they reconfigure, stop and restart.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL is set: it says PostgreSQL is installed.
@Suite(.serialized, .enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresFaultTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres-cluster").path

    /// Runs scripts/postgres-cluster through `runShell` (Foundation's Process never saw
    /// it exit inside the test process); throws with its output when it fails.
    @discardableResult
    static func cluster(_ arguments: String...) async throws -> String {
        let result = await runShell((["/bin/bash", script] + arguments).map { "'\($0)'" }.joined(separator: " "))
        guard result.status == 0 else { throw TestDatabaseError("postgres-cluster \(arguments): \(result.output)") }
        return result.output
    }

    static func freePort() throws -> Int { try freeLoopbackPort() }

    /// A cluster of the test's own in a temporary folder, stopped and removed afterwards.
    static func withCluster(_ body: (_ directory: String, _ port: Int, _ settings: PostgreSQLSettings) async throws -> Void)
        async throws
    {
        let folder = try TemporaryDirectory(prefix: "token-authority-pg")
        // The server runs as `postgres` when the tests run as root: it must reach the folder.
        chmod(folder.path, 0o755)
        let directory = folder.file("cluster")
        let port = try freePort()
        try await cluster("start", directory, String(port))
        let settings = PostgreSQLSettings(host: "127.0.0.1", port: port, username: "postgres", database: "postgres")
        do {
            try await body(directory, port, settings)
        } catch {
            _ = try? await cluster("stop", directory)
            folder.remove()
            throw error
        }
        _ = try? await cluster("stop", directory)
        folder.remove()
    }

    @Test func aWrongPasswordStopsStartUpWithOneLineThatNeverShowsThePassword() async throws {
        try await Self.withCluster { directory, port, admin in
            // Given a user who must give a password over TCP (SCRAM), as in production
            let password = "correct-horse-\(UUID().uuidString)"
            let hba = directory + "/pg_hba.conf"
            let rules = try String(contentsOfFile: hba, encoding: .utf8)
            try ("host all app 127.0.0.1/32 scram-sha-256\n" + rules).write(toFile: hba, atomically: false, encoding: .utf8)
            try await PostgresTestDatabase.query("SELECT pg_reload_conf()", on: admin)
            try await PostgresTestDatabase.query(
                PostgresQuery(unsafeSQL: "CREATE ROLE app LOGIN PASSWORD '\(password)'"), on: admin)
            // (PostgreSQL 15 lets only the owner create in schema public, unless granted)
            try await PostgresTestDatabase.query("GRANT CREATE ON SCHEMA public TO app", on: admin)
            var settings = admin
            settings.username = "app"

            // When the store opens with a wrong password
            settings.password = "wrong-\(password)"
            let error = try await #require(throws: (any Error).self) {
                try await PostgresDatabase.open(settings, now: 0, logger: TestStore.logger)
            }
            // Then the error is one line naming the database and the server's reason, without the password
            let line = String(describing: error)
            #expect(
                line == "cannot connect to PostgreSQL at postgresql://app@127.0.0.1:\(port)/postgres: "
                    + "password authentication failed for user \"app\" (SQLSTATE 28P01)")
            #expect(!line.contains(password))
            #expect(!line.contains("\n"))

            // And with the right password it opens
            settings.password = password
            try await PostgresDatabase.open(settings, now: 0, logger: TestStore.logger).close()
        }
    }

    @Test func anUnreachableServerStopsStartUpWithOneLine() async throws {
        // Given a port nothing listens on
        let port = try Self.freePort()
        let settings = PostgreSQLSettings(
            host: "127.0.0.1", port: port, username: "app", database: "tokens", password: "s3cret-password")
        // When the store opens, it fails at once with one line naming the database and the reason
        let error = try await #require(throws: (any Error).self) {
            try await PostgresDatabase.open(settings, now: 0, logger: TestStore.logger)
        }
        let line = String(describing: error)
        #expect(line == "cannot connect to PostgreSQL at postgresql://app@127.0.0.1:\(port)/tokens: connection refused")
        #expect(!line.contains("s3cret-password"))
    }

    @Test func aStoppedServerMakesRequestsUnavailableUntilItIsBack() async throws {
        try await Self.withCluster { directory, port, settings in
            // Given an open store that has answered
            let store = try await PostgresStore.open(
                settings, migrations: PostgresDatabase.embeddedMigrations, now: 0, logger: TestStore.logger,
                leaseTimeout: .seconds(2))
            try await Fixtures.registerClient(in: store, id: "app")
            #expect(try await store.client(id: "app") != nil)

            // When the server stops
            try await Self.cluster("stop", directory)

            // Then a request fails as StoreUnavailable (503), whose reason names the database
            let error = await #expect(throws: StoreUnavailable.self) { try await store.client(id: "app") }
            #expect(error?.reason.contains("postgresql://postgres@127.0.0.1:\(port)/postgres") == true)

            // When the server is back, the same request succeeds (the pool reconnects on its own schedule)
            try await Self.cluster("start", directory, String(port))
            var answered = false
            for _ in 0..<30 where !answered {
                answered = (try? await store.client(id: "app")) != nil
            }
            #expect(answered)
            try await store.close()
        }
    }
}
