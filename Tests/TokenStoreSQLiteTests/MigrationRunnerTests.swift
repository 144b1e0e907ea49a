import Foundation
import GRDB
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

@Suite struct MigrationRunnerTests {
    @Test func freshDatabaseGetsEveryMigrationRecordedWithItsChecksum() throws {
        // Given an empty database
        let queue = try DatabaseQueue()
        // When the runner applies the embedded migrations
        let applied = try MigrationRunner().migrate(queue, now: 5)
        // Then each is recorded with the SHA-256 of its file
        #expect(applied == Migration.embedded.map(\.fileName))
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT version, checksum FROM schema_migrations") }
        #expect(rows.map { $0["checksum"] as String } == Migration.embedded.map(\.checksum))
        #expect(try queue.read { db in try db.tableExists("access_tokens") && db.tableExists("refresh_tokens") })
    }

    @Test func secondRunAppliesNothing() throws {
        let queue = try DatabaseQueue()
        try MigrationRunner().migrate(queue, now: 5)
        #expect(try MigrationRunner().migrate(queue, now: 6).isEmpty)
    }

    @Test func changedAppliedMigrationStopsWithAClearError() throws {
        // Given a database migrated with the real files
        let queue = try DatabaseQueue()
        try MigrationRunner().migrate(queue, now: 5)
        // When 0001 is presented with other content
        var edited = Migration.embedded
        edited[0] = Migration(fileName: edited[0].fileName, sql: edited[0].sql + "\n-- edited\n")
        // Then the runner refuses, naming the file
        #expect {
            try MigrationRunner(migrations: edited).migrate(queue, now: 6)
        } throws: { error in
            "\(error)".contains("0001_initial.sql was changed after it was applied")
        }
    }

    @Test func databaseFromANewerBuildIsRefused() throws {
        let queue = try DatabaseQueue()
        try MigrationRunner().migrate(queue, now: 5)
        try queue.write { db in
            try db.execute(sql: "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', ?, 0)", arguments: [String(repeating: "0", count: 64)])
        }
        #expect(throws: MigrationError.unknownApplied(version: 9999, name: "9999_future.sql")) {
            try MigrationRunner().migrate(queue, now: 6)
        }
    }

    @Test func failingMigrationLeavesNothingHalfApplied() throws {
        let queue = try DatabaseQueue()
        let broken = Migration.embedded + [Migration(fileName: "0999_broken.sql", sql: "CREATE TABLE x (a); SELECT * FROM nope;")]
        #expect(throws: (any Error).self) { try MigrationRunner(migrations: broken).migrate(queue, now: 5) }
        #expect(try queue.read { db in try !db.tableExists("clients") && !db.tableExists("x") })
    }

    @Test func missingFolderIsAClearError() {
        #expect(throws: MigrationError.folderMissing("/nonexistent/migrations")) {
            try Migration.load(from: "/nonexistent/migrations")
        }
    }

    /// The binary embeds `migrations/`: the two must never drift apart.
    @Test func embeddedMigrationsMatchTheMigrationsFolder() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations").path
        let files = try Migration.load(from: folder)
        #expect(files == Migration.embedded, "run scripts/embed-migrations after changing migrations/")
        #expect(files.map(\.version) == Array(1...files.count))
    }
}
