import Foundation
import GRDB
import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// What only the SQLite store does; everything the stores share is in the conformance suite.
@Suite struct SQLiteStoreTests {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let cipher = try! TokenCipher(keyBytes: Array(repeating: 1, count: 32))
    let key: TokenKey

    init() async throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore.open(path: directory.file("db.sqlite3"), now: 0)
        let client = try await Fixtures.registerClient(in: store, id: "app")
        try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
        key = TokenKey(clientID: client.clientID, subject: .user("alice"), scope: try ScopeSet(parsing: "openid"))
    }

    func newPair(at now: EpochMilliseconds = 1000) throws -> NewTokenPair {
        NewTokenPair(
            grantType: .password, access: try cipher.seal(TokenCipher.newToken()), issuedAt: now,
            accessExpiresAt: now + 3_600_000, refresh: try cipher.seal(TokenCipher.newToken()),
            refreshExpiresAt: now + 86_400_000)
    }

    @Test func theWriterIsBackToNormalSyncAfterARevocation() async throws {
        let pair = try newPair()
        _ = try await store.issue(pair, for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: nil, at: 5000) == .revoked)
        // 1 = NORMAL: issuance keeps committing without a full sync (docs/storage.md, "Durability")
        #expect(try await store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
    }

    @Test func revocationCommitsWithAFullSyncWhileIssuanceDoesNot() async throws {
        // Given the writer connection's statements traced
        let statements = Mutex<[String]>([])
        try await store.writer.write { db in
            db.trace { event in
                if case .statement(let statement) = event { statements.withLock { $0.append(statement.sql) } }
            }
        }
        // When a token is issued, then revoked
        let pair = try newPair()
        _ = try await store.issue(pair, for: key) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
        let issuance = statements.withLock { $0 }
        #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: nil, at: 5000) == .revoked)
        let revocation = statements.withLock { Array($0.dropFirst(issuance.count)) }
        // Then only the revocation's COMMIT runs under synchronous = FULL (docs/storage.md)
        #expect(!issuance.contains { $0.contains("synchronous = FULL") })
        let full = try #require(revocation.firstIndex { $0.contains("synchronous = FULL") })
        let commit = try #require(revocation.firstIndex { $0.hasPrefix("COMMIT") })
        let normal = try #require(revocation.firstIndex { $0.contains("synchronous = NORMAL") })
        #expect(full < commit && commit < normal)
    }
}

@Suite struct WALCheckpointerTests {
    @Test func checkpointCopiesTheWALIntoTheDatabaseFile() async throws {
        // Given a store with writes sitting in its WAL
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("db.sqlite3")
        let store = try SQLiteStore.open(path: path, now: 0)
        for index in 0..<50 { try await Fixtures.registerClient(in: store, id: "client-\(index)") }
        let sizeBefore = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        // When the checkpointer runs from its own connection
        let checkpointer = try WALCheckpointer(path: path)
        let walPages = try await checkpointer.checkpoint().frames
        // Then the pages are in the database file, readable without the WAL
        let sizeAfter = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(walPages > 0)
        #expect(sizeAfter > sizeBefore)
        #expect(try await store.clients().count == 50)
    }

    @Test("Cancelled in the middle of a checkpoint, as graceful shutdown does, the loop still lets close remove the WAL")
    func cancellingTheLoopKeepsTheCloseCheckpoint() async throws {
        for round in 0..<20 {
            // Given a store with a write in its WAL, and its checkpointer checkpointing without pause
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("db.sqlite3")
            let store = try SQLiteStore.open(path: path, now: 0)
            try await Fixtures.registerClient(in: store, id: "client")
            let checkpointer = try #require(store.checkpointer)
            let checkpoints = Task { await checkpointer.run(busy: .zero, idle: .zero) }
            // When the loop is cancelled, most often while a checkpoint runs, and the store closes
            try await Task.sleep(for: .milliseconds(round % 4))
            checkpoints.cancel()
            await checkpoints.value
            try await store.close()
            // Then the last connection's checkpoint removed the WAL and the wal-index
            for suffix in ["-wal", "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: path + suffix), "round \(round): \(suffix) is left")
            }
        }
    }

    @Test func roundsComeQuicklyWhileTheWALGrowsAndSlowlyOnceItStops() {
        typealias Progress = WALCheckpointer.Progress
        let (busy, idle) = (Duration.milliseconds(10), Duration.milliseconds(100))
        func pause(_ progress: Progress?, after previous: Progress?) -> Duration {
            WALCheckpointer.pause(after: progress, previous: previous, busy: busy, idle: idle)
        }
        // New frames, or new frames copied, since the last round: soon again
        #expect(pause(Progress(frames: 40, copied: 40), after: Progress(frames: 30, copied: 30)) == busy)
        #expect(pause(Progress(frames: 40, copied: 40), after: Progress(frames: 40, copied: 35)) == busy)
        #expect(pause(Progress(frames: 3, copied: 3), after: nil) == busy)
        // Nothing new, or a failed round: the idle pace
        #expect(pause(Progress(frames: 40, copied: 40), after: Progress(frames: 40, copied: 40)) == idle)
        #expect(pause(nil, after: Progress(frames: 40, copied: 40)) == idle)
    }
}
