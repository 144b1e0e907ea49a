import Foundation
import GRDB
import Testing
import TokenAuthorityTesting
@testable import TokenStoreSQLite

/// The wal-index header that tells whether anyone has committed since an earlier look
/// (docs/storage.md, "Reads answered from memory"), read as SQLite documents it.
@Suite struct WALIndexHeaderTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// The version read from memory holding the two copies given.
    func version(_ first: [UInt8], _ second: [UInt8]) -> WALIndexHeader.Version? {
        (first + second).withUnsafeBytes { bytes in
            bytes.baseAddress.flatMap { WALIndexHeader(base: $0).version() }
        }
    }

    /// One copy of a header: `isInit` at byte 12, the frame count at byte 16.
    func copy(isInit: UInt8 = 1, frames: UInt8) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: WALIndexHeader.copySize)
        bytes[0] = 0xE0  // iVersion 3007000, little-endian
        bytes[1] = 0xE2
        bytes[2] = 0x2D
        bytes[12] = isInit
        bytes[16] = frames
        return bytes
    }

    @Test func twoCopiesThatAgreeAreAVersion() throws {
        let seen = try #require(version(copy(frames: 7), copy(frames: 7)))
        #expect(seen == version(copy(frames: 7), copy(frames: 7)))
        #expect(seen != version(copy(frames: 8), copy(frames: 8)))
    }

    @Test func copiesThatDisagreeSayNothing() {
        // A commit writes the second copy, then the first: caught between the two
        #expect(version(copy(frames: 7), copy(frames: 8)) == nil)
    }

    @Test func aWALIndexNotBuiltYetSaysNothing() {
        #expect(version(copy(isInit: 0, frames: 0), copy(isInit: 0, frames: 0)) == nil)
    }

    @Test func aDatabaseNotInWALModeHasNone() throws {
        let queue = try DatabaseQueue(path: directory.file("rollback.sqlite3"))
        #expect(try queue.writeWithoutTransaction { db in try WALIndexHeader.of(db) } == nil)
    }

    @Test func aDatabaseKeepsItsVersionUntilAnotherConnectionCommits() async throws {
        // Given a store's database, and a second connection to it, as another process would have
        let path = directory.file("db.sqlite3")
        let store = try SQLiteStore.open(path: path, now: 0)
        let other = try DatabaseQueue(path: path)
        let header = try #require(try await store.writer.writeWithoutTransaction { db in try WALIndexHeader.of(db) })
        let before = try #require(header.version())

        // When the other connection reads, the version stays; when it commits, it moves
        _ = try await other.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM access_tokens") }
        #expect(header.version() == before)
        try await other.write { db in try db.execute(sql: "CREATE TABLE scratch (id INTEGER)") }
        let after = try #require(header.version())
        #expect(after != before)
        // And a store's own commit moves it too
        try await store.write { db in try db.execute(sql: "INSERT INTO scratch VALUES (1)") }
        #expect(header.version() != after)
        try await store.close()
    }

    @Test func watchingTheHeaderLeavesSQLitesLocksInPlace() async throws {
        // Given an open store, which watches its wal-index header
        let path = directory.file("db.sqlite3")
        let store = try SQLiteStore.open(path: path, now: 0)
        #expect(store.activeTokens.isEnabled)

        // Then this process still holds SQLite's lock on the wal-index (the DMS byte, 128): closing a
        // descriptor of the `-shm` file of its own would have dropped it, and another process would
        // then rebuild the wal-index under this one. Only another process can see the lock.
        let probe = """
            import fcntl, os, struct, sys
            fd = os.open(sys.argv[1], os.O_RDWR)
            lock = fcntl.fcntl(fd, fcntl.F_GETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 128, 1, 0))
            print("held" if struct.unpack("hhqqi4x", lock)[0] != fcntl.F_UNLCK else "free")
            """
        let result = await runShell("python3 -c '\(probe)' \(path)-shm")
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "held")
        try await store.close()
    }
}
