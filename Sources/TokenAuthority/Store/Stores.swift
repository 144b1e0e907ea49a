import Synchronization

/// Storage, split as each caller needs it (fosite's small storage interfaces).
/// Implementations enforce the semantics with the database itself: constraints,
/// a unique partial index for "one ACTIVE token per key", and transactions.

public protocol ClientStore: Sendable {
    func client(id: String) async throws -> Client?
    /// - Throws: `StoreError.alreadyExists` when the id is taken.
    func createClient(_ client: Client) async throws
    func clients() async throws -> [Client]
    /// Deletes the client and every token issued to it. Returns false when there was none.
    func deleteClient(id: String) async throws -> Bool
    /// A number that every committed change to a client moves, whichever process made it
    /// (a row that triggers update): how a `ClientCache` learns that its copies are old.
    func clientsVersion() async throws -> Int64
    /// Drops any copies of clients held in memory, so that the next lookup reads the
    /// database (`ClientCache`); a store itself holds none.
    func forgetCopies()
    /// Calls `changed` whenever another process may have changed a client, until the
    /// task is cancelled: at once when it starts listening, after each change it is
    /// told of, and whenever it stops listening for a while (a lost connection), since
    /// a change may then go untold. Returns at once when the store cannot be told of
    /// changes (SQLite): `clientsVersion()` is then the only way to learn of them.
    func followClientChanges(_ changed: @escaping @Sendable () -> Void) async
}

extension ClientStore {
    public func forgetCopies() {}
    public func followClientChanges(_ changed: @escaping @Sendable () -> Void) async {}
}

public protocol UserStore: Sendable {
    func user(named username: String) async throws -> User?
    /// - Throws: `StoreError.alreadyExists` when the name is taken.
    func createUser(_ user: User) async throws
    /// Sets the password hash of an existing user; returns false when there is no such user.
    func updatePasswordHash(username: String, passwordHash: String) async throws -> Bool
    func users() async throws -> [User]
    /// Deletes the user and every token issued for them. Returns false when there was none.
    func deleteUser(named username: String) async throws -> Bool
    /// Counts a failed login in one statement; when the count reaches `threshold`
    /// the account locks until `lockUntil` and the count restarts. Returns true
    /// when this failure locked the account.
    func recordFailedLogin(username: String, threshold: Int, lockUntil: EpochMilliseconds) async throws -> Bool
    /// Forgets the failed logins of an account: after a successful login, or to
    /// unlock it (`user unlock`). Returns false when there is no such user.
    func clearFailedLogins(username: String) async throws -> Bool
}

public protocol TokenStore: Sendable {
    /// The ACTIVE token of `key`, read without taking the write lock: the reuse fast path.
    func activeToken(for key: TokenKey) async throws -> StoredToken?

    /// In one write transaction: reads the ACTIVE token of `key`, asks `decide`
    /// what to do with it, applies that, and returns the token that is ACTIVE for
    /// the key afterwards.
    func issue(
        _ newToken: NewTokenPair, for key: TokenKey,
        decide: @escaping @Sendable (StoredToken?) -> IssuanceDecision
    ) async throws -> StoredToken

    /// Renewal, where the decision does not depend on the ACTIVE token: in one write
    /// transaction, the ACTIVE token of `key`, if any, leaves ACTIVE as `retiring`, its
    /// refresh token too when `newToken` brings a new one, and `newToken` becomes ACTIVE.
    /// Returns it, and whether a token was retired. `issue` with a `decide` that ignores
    /// its argument does the same; a store may do it without reading the token first.
    func renew(_ newToken: NewTokenPair, for key: TokenKey, retiring: TokenState) async throws
        -> (token: StoredToken, retired: Bool)

    /// Tokens for an operator's listing, newest first.
    func tokens(matching filter: TokenFilter) async throws -> [TokenSummary]

    /// Answers when the database does.
    func ping() async throws
}

extension TokenStore {
    public func renew(_ newToken: NewTokenPair, for key: TokenKey, retiring: TokenState) async throws
        -> (token: StoredToken, retired: Bool)
    {
        let found = Mutex(false)
        let decision = IssuanceDecision.renewal(retiring: retiring, withRefreshToken: newToken.refresh != nil)
        let token = try await issue(newToken, for: key) { active in
            found.withLock { $0 = active != nil }
            return decision
        }
        return (token, found.withLock { $0 })
    }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    case alreadyExists(String)
    /// A write referred to a client or user that another process deleted while the
    /// request ran: its foreign key failed, and nothing was written.
    case ownerGone

    public var description: String {
        switch self {
        case .alreadyExists(let what): "\(what) already exists"
        case .ownerGone: "the client or user was deleted meanwhile"
        }
    }
}
