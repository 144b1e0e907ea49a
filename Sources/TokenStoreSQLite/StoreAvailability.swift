import GRDB

extension SQLiteStore {
    /// True when `error` is SQLite failing for a reason outside the request: the
    /// disk full, the file or its folder read-only, an I/O error, the write lock
    /// held past the busy timeout, the file gone. The server answers these with
    /// 503 `server_error`: nothing was written (the transaction rolled back), and
    /// the same request succeeds once the fault clears.
    public static func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        return unavailableCodes.contains(error.resultCode)
    }

    private static let unavailableCodes: [ResultCode] = [
        .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN,
        .SQLITE_PROTOCOL, .SQLITE_NOMEM,
    ]
}
