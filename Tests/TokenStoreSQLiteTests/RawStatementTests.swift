import GRDB
import GRDBSQLite
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// The hot lookups' way through SQLite's own API (docs/performance.md, "A reuse
/// request, stage by stage"): values bound whole, rows read as GRDB would read
/// them, errors thrown, and the statement left reset and unbound for GRDB.
@Suite struct RawStatementTests {
    let database: DatabaseQueue

    init() throws {
        database = try DatabaseQueue()
        try database.write { db in
            try db.execute(sql: "CREATE TABLE t (name TEXT NOT NULL, data BLOB, number INTEGER)")
            try db.execute(sql: "INSERT INTO t VALUES ('ci', x'0102', 7), ('', x'', NULL)")
        }
    }

    /// The rows whose name is `name`, read through `RawStatement`: (data, number or nil).
    func rows(named name: String) throws -> [([UInt8], Int64?)] {
        try database.read { db in
            let statement = RawStatement(try db.cachedStatement(sql: "SELECT data, number FROM t WHERE name = ?"), in: db)
            try statement.bind(name, at: 1)
            var rows: [([UInt8], Int64?)] = []
            while try statement.step() { rows.append((statement.bytes(0), statement.isNull(1) ? nil : statement.int64(1))) }
            return rows
        }
    }

    @Test func textIsBoundWholeEvenPastANul() throws {
        // "ci" followed by a NUL and more is not "ci": an identifier compares as bytes
        #expect(try rows(named: "ci\u{0}x").isEmpty)
        #expect(try rows(named: "ci").map(\.1) == [7])
    }

    @Test func emptyTextIsBoundAsEmptyTextNotNull() throws {
        let found = try rows(named: "")
        #expect(found.count == 1)
        #expect(found.first?.0 == [])
        #expect(found.first?.1 == nil)
    }

    @Test func blobsAreBoundAndReadByTheirBytes() throws {
        let names = try database.read { db in
            let statement = RawStatement(try db.cachedStatement(sql: "SELECT name FROM t WHERE data = ? ORDER BY name"), in: db)
            try statement.bind([0x01, 0x02], at: 1)
            guard try statement.step() else { return [String]() }
            return [statement.text(0)]
        }
        #expect(names == ["ci"])
        // An empty array is a zero-length blob, not NULL
        let empty = try database.read { db in
            let statement = RawStatement(try db.cachedStatement(sql: "SELECT count(*) FROM t WHERE data = ?"), in: db)
            try statement.bind([], at: 1)
            return try statement.step() ? statement.int64(0) : -1
        }
        #expect(empty == 1)
    }

    @Test func writesBindIntegersTextAndNullsAndRunToTheirEnd() throws {
        let written = try database.write { db in
            let insert = RawStatement(try db.cachedStatement(sql: "INSERT INTO t (name, data, number) VALUES (?, ?, ?)"), in: db)
            try insert.bind("w\u{0}x" as String?, at: 1)
            try insert.bind([0x03], at: 2)
            try insert.bind(Int64.max as Int64?, at: 3)
            try insert.execute()
            let nulls = RawStatement(try db.cachedStatement(sql: "INSERT INTO t (name, data, number) VALUES ('n', ?, ?)"), in: db)
            try nulls.bind(nil as String?, at: 1)
            try nulls.bind(nil as Int64?, at: 2)
            try nulls.execute()
            return try Row.fetchAll(db, sql: "SELECT hex(name) AS name, data, number FROM t WHERE rowid > 2 ORDER BY rowid")
        }
        // The text whole past its NUL, the integer exact, and NULL for nil
        #expect(written.map { $0["name"] as String } == ["770078", "6E"])
        #expect(written.map { $0["number"] as Int64? } == [Int64.max, nil])
        #expect(written[1]["data"] as DatabaseValue == .null)
    }

    @Test func aFailingStepThrowsSQLitesError() throws {
        #expect {
            try database.read { db in
                let statement = RawStatement(try db.cachedStatement(sql: "SELECT abs(CAST(? AS INTEGER))"), in: db)
                try statement.bind("-9223372036854775808", at: 1)
                _ = try statement.step()
            }
        } throws: { error in
            let error = error as? DatabaseError
            return error?.resultCode == .SQLITE_ERROR && error?.message == "integer overflow"
        }
    }

    @Test func theStatementIsLeftResetAndUnboundForGRDB() throws {
        try database.read { db in
            let sql = "SELECT number FROM t WHERE name = ?"
            do {
                // A row read and the statement left mid-way
                let statement = RawStatement(try db.cachedStatement(sql: sql), in: db)
                try statement.bind("ci", at: 1)
                #expect(try statement.step())
            }
            let cached = try db.cachedStatement(sql: sql)
            // Not holding a read open
            #expect(sqlite3_stmt_busy(cached.sqliteStatement) == 0)
            // Nothing left bound: run again unbound, the name is NULL and matches no row
            let unbound = RawStatement(cached, in: db)
            #expect(try unbound.step() == false)
            _ = consume unbound
            // And GRDB runs it as usual, with its own arguments
            #expect(try Int64.fetchOne(cached, arguments: ["ci"]) == 7)
        }
    }
}

/// The SQLite store's lookups compare identifiers as bytes: GRDB binds text up to its first
/// NUL, so a lookup through it must check what it found, and `RawStatement` binds it whole.
@Suite struct SQLiteLookupBytesTests {
    @Test func aClientOrUserIdThatGoesOnPastANulFindsNothing() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        try await Fixtures.registerClient(in: store, id: "app")
        try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
        #expect(try await store.client(id: "app")?.clientID == "app")
        #expect(try await store.client(id: "app\u{0}x") == nil)
        #expect(try await store.user(named: "alice")?.username == "alice")
        #expect(try await store.user(named: "alice\u{0}") == nil)
        try await store.close()
    }

    @Test func aKeyThatOnlyBeginsLikeAnotherFindsNothing() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        try await Fixtures.registerClient(in: store, id: "app")
        let key = TokenKey(clientID: "app", subject: .client("app"), scope: try ScopeSet(parsing: "bench"))
        let cipher = try TokenCipher(keyBytes: Array(repeating: 1, count: 32))
        let pair = NewTokenPair(
            grantType: .clientCredentials, access: try cipher.seal(TokenCipher.newToken()), issuedAt: 1000,
            accessExpiresAt: 3_601_000, refresh: nil, refreshExpiresAt: 0)
        let issued = try await store.issue(pair, for: key) { _ in .issue(retiring: .revoked, refresh: .none) }
        #expect(try await store.activeToken(for: key)?.accessTokenID == issued.accessTokenID)
        // An id, or a subject, that goes on past a NUL is another one
        let longerID = TokenKey(clientID: "app\u{0}x", subject: .client("app"), scope: key.scope)
        let longerSubject = TokenKey(clientID: "app", subject: .client("app\u{0}"), scope: key.scope)
        #expect(try await store.activeToken(for: longerID) == nil)
        #expect(try await store.activeToken(for: longerSubject) == nil)
        try await store.close()
    }
}
