import GRDB
import GRDBSQLite
import Synchronization

/// The header of a WAL database's wal-index (the `-shm` file), as SQLite itself has it
/// mapped, to tell whether anyone has committed to the database since an earlier look,
/// without a read transaction.
///
/// The format is SQLite's documented one (https://www.sqlite.org/walformat.html, "The
/// WAL-Index Header"): two copies of a 48-byte header at the start of the file, which
/// every connection of every process on the database maps. A commit appends frames to the
/// WAL and then writes the header anew: its frame count (`mxFrame`), the checksum of the
/// last frame, and a change counter all move, and when the WAL starts over its salts
/// change. The writer writes the second copy, then the first; a reader reads the first,
/// then the second, and trusts them only when they agree. This does the same, so an
/// unchanged header means no commit since, by this process or another.
///
/// The memory is SQLite's own mapping, asked of the connection's file through the VFS
/// (`xShmMap`), never a mapping of our own: opening the `-shm` file and closing it again
/// would drop every POSIX lock this process holds on it, SQLite's included (fcntl locks
/// belong to the process and the file, and any close releases them all), and another
/// process would then find the wal-index unowned and rebuild it under this one. SQLite
/// keeps that mapping while any connection of this process has the database open, which
/// the store's own connections do until it closes, after its caches.
final class WALIndexHeader: @unchecked Sendable {
    /// One look at the header: equal versions, an unchanged database.
    struct Version: Equatable, Sendable {
        fileprivate var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

        var isInitialized: Bool {
            withUnsafeBytes(of: words) { $0[WALIndexHeader.isInitOffset] == 1 }
        }

        static func == (lhs: Version, rhs: Version) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2
                && lhs.words.3 == rhs.words.3 && lhs.words.4 == rhs.words.4 && lhs.words.5 == rhs.words.5
        }
    }

    /// The size of one copy of the header.
    static let copySize = 48
    /// Where `isInit` lies in a copy: 1 once a connection has built the wal-index.
    fileprivate static let isInitOffset = 12

    // Immutable after init; the mapped bytes are written by SQLite, in this process or another.
    private let base: UnsafeRawPointer

    /// The header of the wal-index of `db`'s main database, as SQLite has it mapped; `nil`
    /// when the database is not in WAL mode or its VFS maps no wal-index, and then every
    /// read goes to the database. Call it on a connection that stays open while the
    /// header is read (the pool's writer).
    static func of(_ db: Database) throws -> WALIndexHeader? {
        guard try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal",
            try String.fetchOne(db, sql: "PRAGMA locking_mode") == "normal"
        else { return nil }
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK,
            let methods = file?.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap
        else { return nil }
        // Region 0 of the wal-index, 32 KiB as SQLite maps it (WALINDEX_PGSZ), not extended.
        var region: UnsafeMutableRawPointer?
        guard map(file, 0, 32_768, 0, &region) == SQLITE_OK, let region else { return nil }
        return WALIndexHeader(base: UnsafeRawPointer(region))
    }

    /// A header at `base`, which must hold two copies of it and outlive this.
    init(base: UnsafeRawPointer) {
        self.base = base
    }

    /// The header as it stands; `nil` while a commit is writing it (the copies differ) or
    /// before the wal-index is built: then nothing can be said, and the caller reads.
    func version() -> Version? {
        let first = read(copy: 0)
        atomicMemoryFence(ordering: .acquiring)
        let second = read(copy: 1)
        guard first == second, first.isInitialized else { return nil }
        return first
    }

    private func read(copy: Int) -> Version {
        let start = base + copy * Self.copySize
        func word(_ index: Int) -> UInt64 { start.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) }
        return Version(words: (word(0), word(1), word(2), word(3), word(4), word(5)))
    }
}
