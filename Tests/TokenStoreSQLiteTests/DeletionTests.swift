import Foundation
import GRDB
import GRDBSQLite
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// docs/storage.md, "Deleting users and clients": deleting a user or a client finds
/// the rows that go with it through indexes, never by reading a table whole while it
/// holds the write lock. SQLite counts the rows a statement stepped through in full
/// scans (`SQLITE_STMTSTATUS_FULLSCAN_STEP`), its triggers and cascades included.
@Suite struct DeletionTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() async throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        for client in ["app", "web"] { try await Fixtures.registerClient(in: store, id: client) }
        for user in ["alice", "bob"] { try await Fixtures.registerUser(in: store, username: user, password: "pw") }
        // Bob's rows, under both clients: what a full scan would step through
        try await store.writer.write { db in
            for index in 0..<40 {
                let client = index.isMultiple(of: 2) ? "app" : "web"
                try db.execute(
                    sql: """
                        INSERT INTO refresh_tokens (id, token_sha256, token_sealed, client_id, subject_type, subject,
                                                    scope, state, issued_at, expires_at, state_changed_at, family_id)
                        VALUES (?, randomblob(32), x'00', ?, 'user', 'bob', 'openid', 'REVOKED', 0, 1, 0, ?);
                        INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                                                   state, grant_type, issued_at, expires_at, refresh_token_id,
                                                   state_changed_at)
                        VALUES (randomblob(32), x'00', ?, 'user', 'bob', 'openid', 'REVOKED', 'password', 0, 1, ?, 0);
                        INSERT INTO sessions (session_sha256, username, auth_time, created_at, expires_at)
                        VALUES (randomblob(32), 'bob', 0, 0, 1);
                        INSERT INTO authorization_codes (code_sha256, client_id, username, redirect_uri, scope, auth_time,
                                                         issued_at, expires_at)
                        VALUES (randomblob(32), ?, 'bob', 'https://app.example/cb', 'openid', 0, 0, 1);
                        INSERT INTO device_authorizations (device_code_sha256, user_code_sha256, client_id, scope, status,
                                                           username, interval_seconds, issued_at, expires_at)
                        VALUES (randomblob(32), randomblob(32), ?, 'openid', 'approved', 'bob', 5, 0, 1);
                        """,
                    arguments: [index + 1, client, index + 1, client, index + 1, client, client])
            }
        }
    }

    /// Runs `sql` on the writer and returns the rows its full scans stepped through.
    func fullScanSteps(_ sql: String) async throws -> Int32 {
        try await store.writer.write { db in
            let statement = try db.makeStatement(sql: sql)
            try statement.execute()
            return sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_FULLSCAN_STEP, 0)
        }
    }

    func count(_ sql: String) async throws -> Int {
        try await store.writer.read { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    @Test func deletingAUserReadsOnlyItsRowsAndTheClients() async throws {
        let steps = try await fullScanSteps("DELETE FROM users WHERE username = 'bob'")
        // The two clients, listed for the token indexes' lookups; no other table read whole
        #expect(steps <= 2)
        let rowsOfBob = [
            ("access_tokens", "subject"), ("refresh_tokens", "subject"), ("sessions", "username"),
            ("authorization_codes", "username"), ("device_authorizations", "username"),
        ]
        for (table, column) in rowsOfBob {
            #expect(try await count("SELECT count(*) FROM \(table) WHERE \(column) = 'bob'") == 0)
        }
    }

    @Test func deletingAClientReadsOnlyItsRows() async throws {
        let steps = try await fullScanSteps("DELETE FROM clients WHERE client_id = 'web'")
        #expect(steps == 0)
        for table in ["access_tokens", "refresh_tokens", "authorization_codes", "device_authorizations"] {
            #expect(try await count("SELECT count(*) FROM \(table) WHERE client_id = 'web'") == 0)
            #expect(try await count("SELECT count(*) FROM \(table) WHERE client_id = 'app'") == 20)
        }
    }
}
