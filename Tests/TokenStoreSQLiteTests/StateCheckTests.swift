import CSQLiteSettings
import GRDB
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// The token tables check their `state` with comparisons (`migrations/0011_state_checks_as_comparisons.sql`):
/// a write builds no temporary b-tree for an IN list, and a state outside the four is still refused.
@Suite struct StateCheckTests {
    let directory: TemporaryDirectory
    let path: String

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.file("db.sqlite3")
    }

    static let tables = ["access_tokens", "refresh_tokens"]

    /// Whether SQLite's program for a token row's UPDATE opens a temporary b-tree.
    static func updateBuildsATemporaryBTree(_ db: Database, table: String) throws -> Bool {
        // EXPLAIN compiles against the schema the connection holds; a statement that reads the table
        // first makes it read the schema again if another connection changed it meanwhile.
        _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)")
        let program = try Row.fetchAll(db, sql: "EXPLAIN UPDATE \(table) SET state = 'REVOKED' WHERE id = 1")
        return program.contains { ($0["opcode"] as String) == "OpenEphemeral" }
    }

    /// The token tables whose state UPDATE opens a temporary b-tree, on this connection.
    static func tablesBuildingATemporaryBTree(_ queue: DatabaseQueue) throws -> [String] {
        try queue.read { db in try tables.filter { try updateBuildsATemporaryBTree(db, table: $0) } }
    }

    /// A client, an INACTIVE refresh token of a user and an ACTIVE token of the client.
    static func insertRows(_ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO clients (client_id, name, secret_sha256, grant_types, created_at)
                VALUES ('app', 'app', zeroblob(32), 'client_credentials refresh_token', 0);
                INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                    state, issued_at, expires_at, state_changed_at)
                VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'read', 'INACTIVE', 1, 2, 1);
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                    state, grant_type, issued_at, expires_at, state_changed_at)
                VALUES (randomblob(32), x'00', 'app', 'client', 'app', 'read', 'ACTIVE', 'client_credentials', 1, 2, 1);
                """)
    }

    /// Every row of the token tables, table by table.
    static func tokenRows(_ queue: DatabaseQueue) throws -> [[Row]] {
        try queue.read { db in try tables.map { try Row.fetchAll(db, sql: "SELECT * FROM \($0) ORDER BY id") } }
    }

    @Test func aTokenRowsWriteBuildsNoTemporaryBTree() throws {
        // Given a database with every migration
        let queue = try DatabaseQueue(path: path)
        try MigrationRunner().migrate(queue, now: 0)
        // Then updating a token row's state checks it without a temporary b-tree
        #expect(try Self.tablesBuildingATemporaryBTree(queue).isEmpty)
    }

    @Test func aStateOutsideTheFourIsStillRefused() throws {
        // Given a database with every migration and a row in each token table
        let queue = try DatabaseQueue(path: path)
        try MigrationRunner().migrate(queue, now: 0)
        try queue.write(Self.insertRows)
        for table in Self.tables {
            // When a row is given a state that is none of the four, or one spelled in lower case
            for state in ["BOGUS", "active", ""] {
                // Then the CHECK constraint refuses it
                #expect(throws: DatabaseError.self, "\(table) \(state)") {
                    try queue.write { db in try db.execute(sql: "UPDATE \(table) SET state = ?", arguments: [state]) }
                }
            }
            for state in TokenState.allCases.map(\.rawValue) {
                try queue.write { db in try db.execute(sql: "UPDATE \(table) SET state = ?", arguments: [state]) }
            }
        }
    }

    @Test func aConnectionInDefensiveModeStillMigratesAndIsDefensiveAgainAfter() throws {
        // Given connections opened in SQLite's defensive mode, as macOS's SQLite opens every one,
        // which refuses edits of sqlite_schema
        var configuration = Configuration()
        configuration.prepareDatabase { db in _ = token_authority_sqlite_defensive(db.sqliteConnection, 1) }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        #expect(throws: DatabaseError.self) {
            try queue.write { db in
                try db.execute(sql: "PRAGMA writable_schema = ON; UPDATE sqlite_schema SET sql = sql WHERE 0")
            }
        }

        // When every migration is applied, then they are, 0011 too
        try MigrationRunner().migrate(queue, now: 0)
        #expect(try Self.tablesBuildingATemporaryBTree(queue).isEmpty)
        // And the connection is in defensive mode again
        #expect(queue.inDatabase { db in token_authority_sqlite_defensive(db.sqliteConnection, -1) } == 1)
    }

    @Test func anUpgradedDatabaseKeepsItsRowsAndAnotherConnectionSeesTheNewCheck() throws {
        // Given a database of the migrations before this one, with rows in the token tables
        let queue = try DatabaseQueue(path: path)
        let earlier = Migration.embedded.filter { $0.fileName < "0011" }
        try MigrationRunner(migrations: earlier).migrate(queue, now: 0)
        try queue.write(Self.insertRows)
        let before = try Self.tokenRows(queue)
        // And another connection to the file, as another process would have, whose UPDATE checks an IN list
        let other = try DatabaseQueue(path: path)
        #expect(try other.read { db in try Self.updateBuildsATemporaryBTree(db, table: "access_tokens") })

        // When the remaining migrations are applied
        #expect(try MigrationRunner().migrate(queue, now: 1).first == "0011_state_checks_as_comparisons.sql")

        // Then the rows are as they were, and the file passes SQLite's integrity check
        #expect(try Self.tokenRows(queue) == before)
        #expect(try queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") } == ["ok"])
        // And the other connection checks the state by comparisons from its next statement on
        #expect(try Self.tablesBuildingATemporaryBTree(other).isEmpty)
    }
}
