import Foundation
import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// docs/storage.md, "Migrations": the PostgreSQL schema is `migrations/postgresql/`,
/// compiled in, applied once, and a database whose applied files changed is refused.
@Suite struct EmbeddedMigrationTests {
    @Test func theCompiledInMigrationsAreTheFilesOfMigrationsPostgresql() throws {
        // Given the folder in the repository (scripts/embed-migrations copies it into the binary)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let files = try Migration.load(from: root.appendingPathComponent("migrations/postgresql").path)
        // Then the embedded list is the same files, byte for byte
        #expect(PostgresDatabase.embeddedMigrations == files)
        #expect(files.map(\.version) == Array(1...files.count))
    }
}

// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresMigrationTests {
    /// A second file that leaves a trace of each time it runs.
    static let probe = Migration(
        fileName: "9999_probe.sql",
        sql: """
            CREATE TABLE migration_probe (applied integer NOT NULL);
            INSERT INTO migration_probe VALUES (1);
            """)

    static func recorded(_ settings: PostgreSQLSettings) async throws -> [(Int, String, String)] {
        try await PostgresTestDatabase.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version", on: settings
        ).map { try $0.decode((Int, String, String).self) }
    }

    @Test func aFreshDatabaseRecordsEveryMigrationWithItsChecksum() async throws {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            // When the store opens a fresh database
            let store = try await PostgresDatabase.open(settings, now: 1_234, logger: TestStore.logger)
            try await store.close()
            // Then every embedded file is recorded once, with its SHA-256
            let rows = try await Self.recorded(settings)
            #expect(rows.map(\.0) == PostgresDatabase.embeddedMigrations.map(\.version))
            #expect(rows.map(\.1) == PostgresDatabase.embeddedMigrations.map(\.fileName))
            #expect(rows.map(\.2) == PostgresDatabase.embeddedMigrations.map(\.checksum))
            // And the readable view shows the time as ISO-8601 UTC, as sqlite3 shows it
            let appliedAt = try await PostgresTestDatabase.value(
                String.self, "SELECT applied_at FROM schema_migrations_view WHERE version = 1", on: settings)
            #expect(appliedAt == "1970-01-01T00:00:01.234Z")
            // And opening it again applies nothing and succeeds
            let again = try await PostgresDatabase.open(settings, now: 5_000, logger: TestStore.logger)
            try await again.close()
            #expect(try await Self.recorded(settings).count == rows.count)
        }
    }

    @Test func aMigrationChangedAfterItWasAppliedIsRefused() async throws {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            // Given a database migrated with the embedded files
            try await PostgresDatabase.open(settings, now: 0, logger: TestStore.logger).close()
            // When a build whose 0001 differs (even by a comment) opens it
            var changed = PostgresDatabase.embeddedMigrations
            changed[0] = Migration(fileName: changed[0].fileName, sql: changed[0].sql + "\n-- edited\n")
            // Then it is refused, naming the file and both checksums
            await #expect(
                throws: MigrationError.changedAfterApplied(
                    fileName: changed[0].fileName, recorded: PostgresDatabase.embeddedMigrations[0].checksum,
                    found: changed[0].checksum)
            ) {
                try await PostgresDatabase.open(settings, migrations: changed, now: 0, logger: TestStore.logger)
            }
        }
    }

    @Test func aMigrationThisBuildDoesNotKnowIsRefused() async throws {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            // Given a database migrated by a newer build with a file more
            try await PostgresDatabase.open(
                settings, migrations: PostgresDatabase.embeddedMigrations + [Self.probe], now: 0,
                logger: TestStore.logger
            ).close()
            // When this build, which knows only the embedded files, opens it
            // Then it is refused
            await #expect(throws: MigrationError.unknownApplied(version: 9999, name: "9999_probe.sql")) {
                try await PostgresDatabase.open(settings, now: 0, logger: TestStore.logger)
            }
        }
    }

    @Test func fourInstancesMigratingAtOnceApplyEachFileExactlyOnce() async throws {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            // When four instances open one fresh database at the same moment
            let migrations = PostgresDatabase.embeddedMigrations + [Self.probe]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await PostgresDatabase.open(
                            settings, migrations: migrations, now: 0, logger: TestStore.logger
                        ).close()
                    }
                }
                try await group.waitForAll()
            }
            // Then all succeed, each file is recorded once, and the probe ran once
            #expect(try await Self.recorded(settings).map(\.0) == migrations.map(\.version))
            #expect(
                try await PostgresTestDatabase.value(Int.self, "SELECT count(*) FROM migration_probe", on: settings)
                    == 1)
        }
    }

    @Test func theViewsShowWhatSqlite3Shows() async throws {
        try await TestStore.withStore { store, settings in
            // Given a client created at a known moment, with introspection allowed
            try await Fixtures.registerClient(in: store, id: "app", mayIntrospect: true)
            try await PostgresTestDatabase.query(
                "UPDATE clients SET created_at = 1767225600123", on: settings)
            // Then clients_view shows ISO-8601 UTC with milliseconds, 1 for true and '*' for every scope
            let row = try await PostgresTestDatabase.query(
                "SELECT created_at, may_introspect, scopes FROM clients_view", on: settings
            ).first?.decode((String, Int, String).self)
            #expect(row?.0 == "2026-01-01T00:00:00.123Z")
            #expect(row?.1 == 1)
            #expect(row?.2 == "*")
        }
    }
}
