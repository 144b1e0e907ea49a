import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The header of a WAL database's wal-index (the `-shm` file), mapped read-only, to tell
/// whether anyone has committed to the database since an earlier look, without a read
/// transaction.
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
/// The file is mapped only while this process holds connections to the database: no other
/// process truncates it then (SQLite does that only as the first connection to a database
/// nobody has open), so reading it cannot fault.
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
    private let length: Int

    /// Maps the header of the wal-index of the WAL database at `databasePath`; `nil` when
    /// it has none to map (no `-shm` file, or one too short to hold the header), and then
    /// every read goes to the database.
    static func map(databasePath: String) -> WALIndexHeader? {
        let descriptor = open(databasePath + "-shm", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        let length = 2 * copySize
        guard fstat(descriptor, &status) == 0, Int(status.st_size) >= length,
            let mapping = mmap(nil, length, PROT_READ, MAP_SHARED, descriptor, 0), mapping != MAP_FAILED
        else { return nil }
        return WALIndexHeader(base: UnsafeRawPointer(mapping), length: length)
    }

    private init(base: UnsafeRawPointer, length: Int) {
        self.base = base
        self.length = length
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), length)
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
