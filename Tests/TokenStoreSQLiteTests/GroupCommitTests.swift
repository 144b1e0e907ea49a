import GRDB
import Testing
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// `GroupCommit`: the token endpoint's writes share transactions (docs/storage.md), yet each
/// behaves as if it had one of its own.
@Suite struct GroupCommitTests {
    struct Refused: Error, Equatable {
        var request: Int
    }

    let directory: TemporaryDirectory
    let pool: DatabasePool
    let groupCommit: GroupCommit

    init() throws {
        directory = try TemporaryDirectory()
        pool = try AppDatabase.open(path: directory.file("db.sqlite3"))
        try pool.write { db in
            try db.execute(sql: "CREATE TABLE rows (id INTEGER PRIMARY KEY, request INTEGER NOT NULL)")
            try db.execute(sql: "CREATE TABLE counter (n INTEGER NOT NULL)")
            try db.execute(sql: "INSERT INTO counter (n) VALUES (0)")
        }
        groupCommit = GroupCommit(writer: pool)
    }

    /// Runs `count` writes at once and returns each one's answer, by request number.
    func concurrently<T: Sendable>(
        _ count: Int, _ work: @escaping @Sendable (Int, Database) throws -> T
    ) async -> [Int: Result<T, any Error>] {
        await withTaskGroup(of: (Int, Result<T, any Error>).self) { group in
            for request in 0..<count {
                group.addTask {
                    do {
                        return (request, .success(try await groupCommit.write { db in try work(request, db) }))
                    } catch {
                        return (request, .failure(error))
                    }
                }
            }
            var answers: [Int: Result<T, any Error>] = [:]
            for await (request, answer) in group { answers[request] = answer }
            return answers
        }
    }

    /// 300 writes at once, each inserting a row with its request number; request 150 then runs `then`.
    func insertEach(
        thenAt150 then: @escaping @Sendable (Database) throws -> Void
    ) async -> [Int: Result<Int, any Error>] {
        await concurrently(300) { request, db in
            try db.execute(sql: "INSERT INTO rows (request) VALUES (?)", arguments: [request])
            if request == 150 { try then(db) }
            return request
        }
    }

    /// Expects every one of `insertEach`'s callers to have been answered as its row fared, committed
    /// or not, and request 150's row not committed; returns the requests whose rows were.
    func expectAnswersMatchRows(_ answers: [Int: Result<Int, any Error>]) async throws -> Set<Int> {
        let committed = try await pool.read { db in Set(try Int.fetchAll(db, sql: "SELECT request FROM rows")) }
        let succeeded = Set(answers.compactMap { request, answer in (try? answer.get()).map { _ in request } })
        #expect(answers.count == 300)
        #expect(succeeded == committed)
        #expect(!committed.contains(150))
        return committed
    }

    @Test("a write that throws is rolled back alone: the others of its batch commit, and each caller gets its own answer")
    func aFailureIsRolledBackAlone() async throws {
        // Given 300 writes at once, every seventh throwing after its INSERT
        let answers = await concurrently(300) { request, db in
            try db.execute(sql: "INSERT INTO rows (request) VALUES (?)", arguments: [request])
            if request % 7 == 0 { throw Refused(request: request) }
            return db.lastInsertedRowID
        }
        // Then the throwing ones left no row and got their own error
        let stored = try await pool.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, request FROM rows").map {
                (($0["request"] as Int), ($0["id"] as Int64))
            })
        }
        #expect(stored.keys.filter { $0 % 7 == 0 }.sorted() == [])
        #expect(stored.count == (0..<300).count { $0 % 7 != 0 })
        for (request, answer) in answers {
            switch answer {
            case .success(let id):
                // And every other one's answer is the row it wrote
                #expect(request % 7 != 0 && stored[request] == id)
            case .failure(let error):
                #expect((error as? Refused) == Refused(request: request))
            }
        }
    }

    @Test("a commit that fails fails every write of its batch, and only those")
    func aFailedCommitReachesEveryCallerOfItsBatch() async throws {
        // Given a foreign key checked at COMMIT, and 300 writes at once, one of which breaks it
        try await pool.write { db in
            try db.execute(sql: "CREATE TABLE parents (id INTEGER PRIMARY KEY)")
            try db.execute(
                sql: """
                    CREATE TABLE children (
                        id INTEGER PRIMARY KEY,
                        parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)
                    """)
        }
        let answers = await insertEach { db in try db.execute(sql: "INSERT INTO children (parent) VALUES (1)") }
        // Then each caller's answer says whether its row was committed: the broken
        // batch's callers all got the commit's error, every other caller its value
        let committed = try await expectAnswersMatchRows(answers)
        for (request, answer) in answers where !committed.contains(request) {
            #expect(throws: DatabaseError.self, "request \(request)") { try answer.get() }
        }
    }

    @Test("a transaction that ends mid-batch, as SQLite ends one on a full disk, runs no later write outside it")
    func aTransactionEndedMidBatchRunsNothingAfterIt() async throws {
        // Given 300 writes at once, one of which finds its transaction gone (SQLite rolls one back
        // by itself on a full disk or an I/O error; here the write ends it)
        let answers = await insertEach { db in try db.execute(sql: "ROLLBACK") }
        // Then each caller's answer still says whether its row was committed: none of the writes
        // queued behind it in its batch committed alone while their callers heard of a failure
        _ = try await expectAnswersMatchRows(answers)
    }

    @Test("writes run one after the other: each sees those before it")
    func writesSeeTheOnesBefore() async throws {
        // Given 300 read-modify-write increments at once
        let answers = await concurrently(300) { _, db in
            let n = try Int.fetchOne(db, sql: "SELECT n FROM counter") ?? 0
            try db.execute(sql: "UPDATE counter SET n = ?", arguments: [n + 1])
            return n + 1
        }
        // Then none was lost, and each saw a different count
        #expect(try await pool.read { db in try Int.fetchOne(db, sql: "SELECT n FROM counter") } == 300)
        #expect(Set(answers.values.compactMap { try? $0.get() }) == Set(1...300))
    }
}
