import GRDB

import Foundation

/// Opens the SQLite database the way every part of token-authority uses it
/// (docs/storage.md): WAL, `synchronous = NORMAL` for issuance, foreign keys on, and a
/// busy timeout so that several processes sharing one file wait for each other's
/// write transactions instead of failing.
enum AppDatabase {
    /// How long a write waits for another connection's write lock before failing.
    static let busyTimeout: TimeInterval = 30

    static func makeConfiguration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .callback { BusyRetry.shouldRetry(numberOfTries: $0, timeout: busyTimeout) }
        configuration.maximumReaderCount = max(2, ProcessInfo.processInfo.activeProcessorCount * 2)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A WAL file that grew under a burst is cut back to 64 MiB once it is rewound.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        return configuration
    }

    /// Opens (creating if needed) the database file and its folder.
    ///
    /// The database holds password hashes and secret digests, so what this creates
    /// is private whatever the umask: the folder 0700, the file 0600. SQLite gives
    /// the `-wal` and `-shm` files it creates the main file's mode.
    /// - Throws: `OpenError` naming the file when SQLite cannot open or write it.
    static func open(path: String) throws -> DatabasePool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        createPrivateFile(path)
        do {
            return try DatabasePool(path: path, configuration: makeConfiguration())
        } catch let error as DatabaseError where SQLiteStore.isUnavailable(error) {
            throw OpenError(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// The database could not be opened: the message names the file and what to check.
    struct OpenError: Error, CustomStringConvertible {
        var path: String
        var reason: String

        var description: String {
            "cannot open the database \(path): \(reason) (the file, its folder, and the -wal and -shm files beside it must be writable by this user, on a disk with free space)"
        }
    }
}

/// Creates an empty file readable and writable by its owner alone, unless the
/// name exists; when it cannot, SQLite's own open reports why.
private func createPrivateFile(_ path: String) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return }
    // open(2) applies the umask, which can only clear bits: fchmod makes it exact.
    _ = fchmod(descriptor, 0o600)
    close(descriptor)
}
