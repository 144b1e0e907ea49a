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

    /// The header of a `-shm` file holding the two copies given, then zeros up to `fileSize` bytes (32 KiB, as SQLite makes it).
    func header(_ first: [UInt8], _ second: [UInt8], fileSize: Int = 32_768) throws -> WALIndexHeader? {
        let path = directory.file("made.sqlite3")
        var bytes = first + second
        bytes += [UInt8](repeating: 0, count: max(0, fileSize - bytes.count))
        try Data(bytes.prefix(fileSize)).write(to: URL(fileURLWithPath: path + "-shm"))
        return WALIndexHeader.map(databasePath: path)
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
        let header = try #require(try header(copy(frames: 7), copy(frames: 7)))
        let version = try #require(header.version())
        #expect(header.version() == version)
    }

    @Test func copiesThatDisagreeSayNothing() throws {
        // A commit writes the second copy, then the first: caught between the two
        let header = try #require(try header(copy(frames: 7), copy(frames: 8)))
        #expect(header.version() == nil)
    }

    @Test func aWALIndexNotBuiltYetSaysNothing() throws {
        let header = try #require(try header(copy(isInit: 0, frames: 0), copy(isInit: 0, frames: 0)))
        #expect(header.version() == nil)
    }

    @Test func noFileOrOneTooShortIsNoHeader() throws {
        #expect(WALIndexHeader.map(databasePath: directory.file("none.sqlite3")) == nil)
        #expect(try header(copy(frames: 1), copy(frames: 1), fileSize: 95) == nil)
    }

    @Test func aDatabaseKeepsItsVersionUntilAnotherConnectionCommits() async throws {
        // Given a store's database, and a second connection to it, as another process would have
        let path = directory.file("db.sqlite3")
        let store = try SQLiteStore.open(path: path, now: 0)
        let other = try DatabaseQueue(path: path)
        let header = try #require(WALIndexHeader.map(databasePath: path))
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
}
