import Foundation
import Testing
import TokenAuthorityTesting

// Schema migrations (docs/storage.md, "Migrations"): applied once, recorded with a checksum, and a
// changed applied migration stops start-up with a clear error.

@Suite("Migrations")
struct MigrationTests {
    @Test("migrate applies the migrations once and creates the operator's tables")
    func migrateTwice() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            // Given a fresh deployment
            // When `migrate` runs twice
            let first = try await deployment.run(["migrate"])
            let second = try await deployment.run(["migrate"])

            // Then both succeed, the first naming the migration it applied
            #expect(first.status == 0, "\(first)")
            #expect(first.stdout.contains("0001_initial.sql"), "\(first)")
            #expect(second.status == 0, "\(second)")
            #expect(!second.stdout.contains("0001_initial.sql"), "\(second)")
            // And each migration is recorded once, and the tables an operator looks for exist
            #expect(try await deployment.count("schema_migrations", where: "version = 1") == 1)
            let tables = Set(
                try await deployment.sqlite("SELECT name FROM sqlite_master WHERE type = 'table'").split(separator: "\n")
                    .map(String.init))
            #expect(tables.isSuperset(of: ["clients", "users", "access_tokens", "refresh_tokens", "schema_migrations"]))
        }
    }

    @Test("A changed applied migration stops serve and migrate", arguments: ["serve", "migrate"])
    func changedMigration(command: String) async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            // Given a migrated database whose record of 0001 no longer matches the file,
            // as if the shipped file had been edited after it was applied
            let migrated = try await deployment.run(["migrate"])
            try #require(migrated.status == 0, "\(migrated)")
            _ = try await deployment.sqlite(
                "UPDATE schema_migrations SET checksum = '\(String(repeating: "0", count: 64))' WHERE version = 1")

            // When the command runs
            let result = try await deployment.run([command], timeout: .seconds(30))

            // Then it exits non-zero, saying which migration changed, and serves nothing
            #expect(result.status != 0, "\(result)")
            #expect(result.stderr.contains("0001_initial.sql"), "\(result)")
            #expect(result.stderr.contains("changed"), "\(result)")
            #expect(!result.stdout.contains("listening"), "\(result)")
        }
    }

    @Test("--migrations DIR applies that folder's files, and a missing folder is a clear error")
    func migrationsFolder() async throws {
        try await Deployment.with(config: deploymentConfig()) { deployment in
            // Given the repository's migrations/ folder, and a path where there is none
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("migrations").path

            // When migrate is pointed at a missing folder
            let missing = try await deployment.run(["migrate", "--migrations", "/nonexistent/migrations"])
            // Then it fails naming the folder, and creates no schema
            #expect(missing.status != 0, "\(missing)")
            #expect(missing.stderr.contains("migrations folder not found: /nonexistent/migrations"), "\(missing)")

            // When it is pointed at the real folder
            let applied = try await deployment.run(["migrate", "--migrations", folder])
            // Then it applies the same schema the binary embeds (same checksum, so serve accepts it)
            #expect(applied.status == 0, "\(applied)")
            #expect(applied.stdout.contains("0001_initial.sql"), "\(applied)")
            let again = try await deployment.run(["migrate"])
            #expect(again.status == 0 && !again.stdout.contains("0001_initial.sql"), "\(again)")
        }
    }
}
