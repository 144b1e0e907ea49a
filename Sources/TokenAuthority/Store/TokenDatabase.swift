/// One database holding everything the server keeps, as a store module opens it:
/// the SQLite file of a single host, or a PostgreSQL database shared by every
/// instance (docs/storage.md). The HTTP layer and the core see only this and the
/// store protocols it is made of; which store is opened is decided in one place,
/// `TokenStorage`, from `[database]`.
public protocol TokenDatabase: ClientStore, UserStore, TokenStore, RefreshTokenStore, TokenLookupStore,
    SigningKeyStore, TokenCleanupStore, SignInStore, DeviceAuthorizationStore
{
    /// Upkeep the store does beside the server until the task is cancelled (SQLite
    /// copies its write-ahead log back into the file); returns at once when it has none.
    func maintain() async

    /// Closes every connection (graceful shutdown).
    func close() async throws
}

/// The database cannot answer now, for a reason outside the request: a disk full,
/// a read-only file, a lost connection, a lock held too long. Nothing the request
/// asked for was written (its transaction rolled back), and the same request
/// succeeds once the fault clears: the server answers 503 `server_error` with
/// `Retry-After` (README, "Faults").
public struct StoreUnavailable: Error, CustomStringConvertible {
    /// What the database reported, for the log only: never shown to a client.
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "the database is unavailable: \(reason)" }
}

/// How many rows one purge deleted.
public struct TokenPurgeCount: Sendable, Equatable {
    public var accessTokens: Int
    public var refreshTokens: Int
    /// Login sessions ended or expired (docs/browser-sign-in.md).
    public var sessions: Int
    /// Authorization codes expired.
    public var authorizationCodes: Int
    /// Device requests expired (docs/device-sign-in.md).
    public var deviceAuthorizations: Int

    public init(
        accessTokens: Int = 0, refreshTokens: Int = 0, sessions: Int = 0, authorizationCodes: Int = 0,
        deviceAuthorizations: Int = 0
    ) {
        self.accessTokens = accessTokens
        self.refreshTokens = refreshTokens
        self.sessions = sessions
        self.authorizationCodes = authorizationCodes
        self.deviceAuthorizations = deviceAuthorizations
    }

    public var total: Int { accessTokens + refreshTokens + sessions + authorizationCodes + deviceAuthorizations }
}

/// Deletes the token rows nothing needs any more (docs/storage.md, "Cleanup").
public protocol TokenCleanupStore: Sendable {
    /// Deletes the rows no longer needed at `now`, keeping everything that left use
    /// less than `retainFor` milliseconds ago, in short transactions of at most
    /// `batchSize` rows. A store shared by several instances lets one purge run at
    /// a time; another instance's purge finds the work done or skips (zero rows).
    func purgeTokens(now: EpochMilliseconds, retainFor: EpochMilliseconds, batchSize: Int) async throws
        -> TokenPurgeCount
}

extension TokenCleanupStore {
    /// Purges in batches of 500 rows: a request queued behind one waits a few milliseconds.
    @discardableResult
    public func purgeTokens(now: EpochMilliseconds, retainFor: EpochMilliseconds) async throws -> TokenPurgeCount {
        try await purgeTokens(now: now, retainFor: retainFor, batchSize: 500)
    }
}
