import GRDB
import GRDBSQLite

/// One run of a cached GRDB statement through SQLite's own API: bind, step, read the
/// columns, and reset and unbind when it goes out of scope. For the single-row lookups
/// and writes of every token request, where GRDB's bookkeeping around a statement, its
/// arguments and its row and value conversions cost more than SQLite's own work
/// (docs/performance.md, "A reuse request, stage by stage").
///
/// Each statement run this way belongs to one function, which always binds every
/// parameter: GRDB never runs it with arguments it believes are still bound. Text is
/// bound with its length, where GRDB binds up to the first NUL.
struct RawStatement: ~Copyable {
    private let handle: OpaquePointer
    private let connection: OpaquePointer?
    /// For an error's message only: GRDB builds `sql` anew on every call.
    private let statement: Statement

    init(_ statement: Statement, in db: Database) {
        handle = statement.sqliteStatement
        connection = db.sqliteConnection
        self.statement = statement
    }

    /// Binds text by its bytes and length: an identifier with a NUL in it is compared
    /// whole, never cut short.
    func bind(_ text: String, at index: Int32) throws {
        var text = text
        let code = text.withUTF8 { bytes in
            // Never a null pointer: SQLite would bind NULL, not the empty text.
            guard let start = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_text(handle, index, "", 0, Self.transient) }
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sqlite3_bind_text(handle, index, $0, Int32(bytes.count), Self.transient)
            }
        }
        try check(code)
    }

    func bind(_ blob: [UInt8], at index: Int32) throws {
        let code = blob.withUnsafeBytes { bytes in
            // A zero-length blob, not NULL, when empty: sqlite3_bind_zeroblob.
            guard let start = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_zeroblob(handle, index, 0) }
            return sqlite3_bind_blob(handle, index, start, Int32(bytes.count), Self.transient)
        }
        try check(code)
    }

    func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    /// NULL for `nil`.
    func bind(_ value: Int64?, at index: Int32) throws {
        guard let value else { return try check(sqlite3_bind_null(handle, index)) }
        try bind(value, at: index)
    }

    /// NULL for `nil`.
    func bind(_ text: String?, at index: Int32) throws {
        guard let text else { return try check(sqlite3_bind_null(handle, index)) }
        try bind(text, at: index)
    }

    /// Runs a statement that returns no rows (an INSERT, an UPDATE) to its end.
    func execute() throws {
        while try step() {}
    }

    /// Steps once: `true` with a row to read, `false` when there is none.
    func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw failure(code)
        }
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    /// The pointer first, then the length, the order SQLite documents as safe.
    func bytes(_ column: Int32) -> [UInt8] {
        guard let start = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    }

    /// As `bytes`: the pointer, then the length.
    func text(_ column: Int32) -> String {
        guard let start = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    }

    deinit {
        // Ends the statement's read of the database at once; no binding outlives the call.
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw failure(code) }
    }

    private func failure(_ code: Int32) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) },
            sql: statement.sql)
    }

    /// SQLite copies what is bound before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
