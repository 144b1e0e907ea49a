import GRDB

import Foundation

/// Opens the SQLite database the way every part of token-authority uses it
/// (SPEC §6): WAL, `synchronous = NORMAL` for issuance, foreign keys on, and a
/// busy timeout so that several processes sharing one file wait for each other's
/// write transactions instead of failing.
public enum AppDatabase {
    /// How long a write waits for another connection's write lock before failing.
    public static let busyTimeout: TimeInterval = 30

    public static func makeConfiguration(readonly: Bool = false) -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.readonly = readonly
        configuration.maximumReaderCount = max(2, ProcessInfo.processInfo.activeProcessorCount * 2)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }

    /// Opens (creating if needed) the database file and its folder.
    public static func open(path: String) throws -> DatabasePool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try DatabasePool(path: path, configuration: makeConfiguration())
    }
}
