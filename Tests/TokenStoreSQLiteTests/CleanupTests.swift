import Foundation
import GRDB
import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// docs/storage.md, "Cleanup": the SQLite store purges in short transactions. Which rows go
/// is the conformance suite's to check, for every store.
@Suite struct CleanupTests {
    static let second: EpochMilliseconds = 1000
    static let day: EpochMilliseconds = 86_400_000
    /// The moment of the purge, and how long rows are kept after they left use.
    let now = ManualClock().now
    let retain = Self.day
    var cutoff: EpochMilliseconds { now - retain }

    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() async throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        try await Fixtures.registerClient(in: store, id: "app")
        try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
    }

    // MARK: Rows

    /// A refresh-token row of alice's; returns its id.
    func refreshToken(_ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil)
        async throws -> Int64
    {
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                        issued_at, expires_at, state_changed_at)
                    VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'openid', ?, ?, ?, ?)
                    """,
                arguments: [state, expiresAt - Self.day, expiresAt, stateChangedAt ?? expiresAt - Self.day])
            return db.lastInsertedRowID
        }
    }

    /// An access-token row: alice's when it has a refresh token, else the client's own.
    func accessToken(
        _ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil, refresh: Int64? = nil,
        subjectType: String? = nil, scope: String = "openid"
    ) async throws -> Int64 {
        let subjectType = subjectType ?? (refresh == nil ? "client" : "user")
        return try await store.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                        grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                    VALUES (randomblob(32), x'00', 'app', ?, ?, ?, ?, 'password', ?, ?, ?, ?)
                    """,
                arguments: [
                    subjectType, subjectType == "user" ? "alice" : "app", scope, state, expiresAt - 3600 * Self.second,
                    expiresAt, refresh, stateChangedAt ?? expiresAt - 3600 * Self.second,
                ])
            return db.lastInsertedRowID
        }
    }

    func ids(_ table: String) async throws -> Set<Int64> {
        try await store.writer.read { db in Set(try Int64.fetchAll(db, sql: "SELECT id FROM \(table)")) }
    }

    @Test func moreRowsThanOneBatchAreAllDeletedInShortTransactions() async throws {
        // Given 1,201 dead user pairs and one live one: more than two batches of 500
        let dead = 1201
        try await store.writer.write { db in
            for _ in 0..<dead {
                try db.execute(
                    sql: """
                        INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                            state, issued_at, expires_at, state_changed_at)
                        VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'openid', 'REVOKED', 1, ?, 2)
                        """, arguments: [cutoff - 1])
                try db.execute(
                    sql: """
                        INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                            state, grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                        VALUES (randomblob(32), x'00', 'app', 'user', 'alice', 'openid', 'REVOKED', 'password', 1, 3, ?, 2)
                        """, arguments: [db.lastInsertedRowID])
            }
        }
        let liveRefresh = try await refreshToken("ACTIVE", expiresAt: now + Self.day)
        let liveAccess = try await accessToken("ACTIVE", expiresAt: now + 3600, refresh: liveRefresh)
        // And an observer that counts the rows each committed transaction deleted
        let observer = DeletionsPerCommit()
        store.writer.add(transactionObserver: observer)

        // When the rows are purged
        let deleted = try await store.purgeTokens(now: now, retainFor: retain)

        // Then every dead row is gone and the live pair stays
        #expect(deleted == TokenPurgeCount(accessTokens: dead, refreshTokens: dead))
        #expect(try await ids("access_tokens") == [liveAccess])
        #expect(try await ids("refresh_tokens") == [liveRefresh])
        // And no transaction deleted more than one batch: 3 for the access rows, 3 for the refresh rows
        let commits = observer.commits
        #expect(commits.count == 6, "\(commits)")
        #expect(commits.allSatisfy { $0 <= SQLiteStore.purgeBatchSize }, "\(commits)")
    }
}

/// Counts the deletions of each committed transaction.
private final class DeletionsPerCommit: TransactionObserver, Sendable {
    private let state = Mutex<(current: Int, commits: [Int])>((0, []))

    var commits: [Int] { state.withLock { $0.commits } }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .delete = eventKind { return true }
        return false
    }

    func databaseDidChange(with event: DatabaseEvent) {
        state.withLock { $0.current += 1 }
    }

    func databaseDidCommit(_ db: Database) {
        state.withLock { state in
            if state.current > 0 { state.commits.append(state.current) }
            state.current = 0
        }
    }

    func databaseDidRollback(_ db: Database) {
        state.withLock { $0.current = 0 }
    }
}
