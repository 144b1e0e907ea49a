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

    /// Runs scripts/postgres-cluster; throws with its output when it fails. It runs
    /// through system(3) on a thread of its own: Foundation's Process never reported
    /// the script's exit inside this test process, and waiting must not block a
    /// thread of the concurrency pool. The arguments are the test's own paths and ports.
    @discardableResult
    static func cluster(_ arguments: String...) async throws -> String {
        let log = NSTemporaryDirectory() + "postgres-cluster-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        let command = (["/bin/bash", script] + arguments).map { "'\($0)'" }.joined(separator: " ") + " >'\(log)' 2>&1"
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: system(command)) }.start()
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard status == 0 else { throw TestDatabaseError("postgres-cluster \(arguments): \(text)") }
        return text
    }

    /// A TCP port nothing listens on now (the kernel's choice for port 0).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestDatabaseError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw TestDatabaseError("bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

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
                try await PostgresDatabase.open(settings, now: 0, logger: StoreFixture.logger)
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
            try await PostgresDatabase.open(settings, now: 0, logger: StoreFixture.logger).close()
        }
    }

    @Test func anUnreachableServerStopsStartUpWithOneLine() async throws {
        // Given a port nothing listens on
        let port = try Self.freePort()
        let settings = PostgreSQLSettings(
            host: "127.0.0.1", port: port, username: "app", database: "tokens", password: "s3cret-password")
        // When the store opens, it fails at once with one line naming the database and the reason
        let error = try await #require(throws: (any Error).self) {
            try await PostgresDatabase.open(settings, now: 0, logger: StoreFixture.logger)
        }
        let line = String(describing: error)
        #expect(line == "cannot connect to PostgreSQL at postgresql://app@127.0.0.1:\(port)/tokens: connection refused")
        #expect(!line.contains("s3cret-password"))
    }

    @Test func aStoppedServerMakesRequestsUnavailableUntilItIsBack() async throws {
        try await Self.withCluster { directory, port, settings in
            // Given an open store that has answered
            let store = try await PostgresStore.open(
                settings, migrations: PostgresDatabase.embeddedMigrations, now: 0, logger: StoreFixture.logger,
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
