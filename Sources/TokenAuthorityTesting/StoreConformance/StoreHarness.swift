import Foundation
import GRDB
import Logging
import TokenAuthority
import TokenStorage

/// One database of one store kind for the conformance suite (docs/storage.md): it
/// opens handles onto the database the way the server does, and looks at rows the
/// way an operator does with `sqlite3` or `psql`, behind the store's back.
public protocol StoreHarness: Sendable {
    /// `sqlite` or `postgresql`.
    var name: String { get }
    /// A new handle onto this one database: a pool of its own, as another
    /// process or another instance would have.
    func open() async throws -> any TokenDatabase
    /// Runs one statement.
    func execute(_ sql: String) async throws
    /// Runs one INSERT and returns the new row's `id`.
    func insert(_ sql: String) async throws -> Int64
    /// The first column of every row, as text (`NULL` for null).
    func strings(_ sql: String) async throws -> [String]
    /// A SQL expression giving 32 random bytes.
    var randomBytes: String { get }
    /// A SQL literal of one zero byte.
    var zeroByte: String { get }
}

extension StoreHarness {
    /// The integer the query's first row starts with; -1 when there is none.
    public func count(_ sql: String) async throws -> Int {
        Int(try await strings(sql).first ?? "") ?? -1
    }

    /// The ids of every row of `table`.
    public func ids(_ table: String) async throws -> Set<Int64> {
        Set(try await strings("SELECT id FROM \(table)").compactMap { Int64($0) })
    }
}

/// A SQLite database file in a folder of its own, removed by `remove()`.
public struct SQLiteHarness: StoreHarness {
    public let directory: TemporaryDirectory
    public var name: String { "sqlite" }
    public var randomBytes: String { "randomblob(32)" }
    public var zeroByte: String { "x'00'" }

    public init() throws {
        directory = try TemporaryDirectory()
    }

    public var settings: DatabaseSettings {
        var settings = DatabaseSettings()
        settings.path = directory.file("db.sqlite3")
        return settings
    }

    public func open() async throws -> any TokenDatabase {
        try await TokenStorage.open(settings, now: 0, logger: .init(label: "test"))
    }

    public func execute(_ sql: String) async throws {
        try await connection { db in try db.execute(sql: sql) }
    }

    public func insert(_ sql: String) async throws -> Int64 {
        try await connection { db in
            try db.execute(sql: sql)
            return db.lastInsertedRowID
        }
    }

    public func strings(_ sql: String) async throws -> [String] {
        try await connection { db in
            try Row.fetchAll(db, sql: sql).map { row in
                switch (row[0] as DatabaseValue).storage {
                case .null: "NULL"
                case .int64(let value): String(value)
                case .double(let value): String(value)
                case .string(let value): value
                case .blob(let value): value.map { String(format: "%02x", $0) }.joined()
                }
            }
        }
    }

    public func remove() {
        directory.remove()
    }

    /// A connection of its own for one statement, as `sqlite3` would open, with a busy timeout:
    /// a connection's first read can meet SQLITE_BUSY while another connection of the file is
    /// closing or recovering the WAL (https://www.sqlite.org/wal.html, "Sometimes Queries Return
    /// SQLITE_BUSY In WAL Mode"), and without a busy handler that fails at once.
    private func connection<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        let queue = try DatabaseQueue(path: settings.path, configuration: configuration)
        defer { try? queue.close() }
        return try await queue.writeWithoutTransaction(body)
    }
}
