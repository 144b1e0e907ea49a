import GRDB
import TokenAuthority

extension SQLiteStore {
    /// Runs `body`, turning SQLite failing for a reason outside the request into
    /// `StoreUnavailable`: the disk full, the file or its folder read-only, an I/O
    /// error, the write lock held past the busy timeout, the file gone. Nothing was
    /// written (the transaction rolled back), and the same request succeeds once
    /// the fault clears. A foreign key that failed (a client or user deleted
    /// meanwhile) is `StoreError.ownerGone`.
    static func mappingUnavailable<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where isUnavailable(error) {
            throw StoreUnavailable(error.description)
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
            throw StoreError.ownerGone
        }
    }

    static func isUnavailable(_ error: DatabaseError) -> Bool {
        unavailableCodes.contains(error.resultCode)
    }

    private static let unavailableCodes: [ResultCode] = [
        .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_CANTOPEN,
        .SQLITE_PROTOCOL, .SQLITE_NOMEM,
    ]
}
