import Logging
import PostgresNIO
import TokenAuthority

/// The rows an issuance decided on a key's ACTIVE token changes (docs/token-renewal.md).
struct IssuanceWrites {
    var newToken: NewTokenPair
    /// The state the ACTIVE access token, if any, leaves ACTIVE for.
    var retiring: TokenState
    /// The state the retired token's refresh token leaves ACTIVE for when a new one
    /// replaces it; `nil` leaves it as it is.
    var refreshRetiring: TokenState?
    /// The new refresh token, when one is inserted.
    var newRefresh: SealedToken?
    /// The ACTIVE token's refresh token, when it is carried over.
    var carried: StoredRefreshToken?

    init(
        _ newToken: NewTokenPair, replacing active: StoredToken?, retiring: TokenState,
        refresh disposition: RefreshDisposition
    ) throws {
        self.newToken = newToken
        self.retiring = retiring
        switch disposition {
        case .none:
            break
        case .carryOver where active?.refreshToken != nil:
            carried = active?.refreshToken
        case .carryOver, .issueNew:
            if case .issueNew(let refreshRetiring) = disposition { self.refreshRetiring = refreshRetiring }
            guard let sealed = newToken.refresh else {
                throw PostgresStoreInconsistency("a refresh token was planned but not prepared")
            }
            newRefresh = sealed
        }
    }
}

extension PostgresStore {
    /// Renewal in one statement outside a transaction (the function `issue_token`,
    /// migrations/postgresql): the key's lock is held while the database runs it, for no
    /// round trip. Run again on a unique violation, as a transaction is.
    func renew(_ newToken: NewTokenPair, for key: TokenKey, retiring: TokenState) async throws
        -> (token: StoredToken, retired: Bool)
    {
        let decision = IssuanceDecision.renewal(retiring: retiring, withRefreshToken: newToken.refresh != nil)
        guard case .issue(let retiring, let refresh) = decision else {
            throw PostgresStoreInconsistency("a renewal decided to reuse")
        }
        let plan = try IssuanceWrites(newToken, replacing: nil, retiring: retiring, refresh: refresh)
        return try await retrying(uniqueViolations: true) {
            try await withConnection { connection in
                try await Self.write(plan, connection, logger: logger, key: key)
            }
        }
    }

    /// Applies `plan` with the function `issue_token` (migrations/postgresql), which
    /// retires whatever token of `key` is ACTIVE: inside `issue`'s transaction, the one
    /// read under the key's lock. Returns the new ACTIVE token and whether one was retired.
    static func write(_ plan: IssuanceWrites, _ connection: PostgresConnection, logger: Logger, key: TokenKey)
        async throws -> (token: StoredToken, retired: Bool)
    {
        let new = plan.newToken
        let rows = try await connection.rows(
            """
            SELECT access_id, refresh_id, retired FROM issue_token(
                \(AdvisoryLock.tokenKeyClass), \(key.clientID), \(key.subject.kind), \(key.subject.name), \(key.scope.description),
                \(plan.retiring.rawValue), \(plan.refreshRetiring?.rawValue),
                \(plan.carried?.id), \(plan.carried?.familyID),
                \(bytes(new.access.digest)), \(bytes(new.access.ciphertext)), \(new.grantType.rawValue),
                \(new.accessExpiresAt), \(new.access.signingKeyID),
                \(plan.newRefresh.map { bytes($0.digest) }), \(plan.newRefresh.map { bytes($0.ciphertext) }),
                \(new.refreshExpiresAt), \(new.familyID), \(new.authTime), \(new.issuedAt))
            """, logger: logger)
        guard let row = rows.first else { throw PostgresStoreInconsistency("issue_token returned no row") }
        let (accessID, refreshID, retired) = try row.decode((Int64, Int64?, Bool).self)
        var refresh = plan.carried
        if let sealed = plan.newRefresh {
            guard let refreshID else { throw PostgresStoreInconsistency("a refresh token was not inserted") }
            refresh = StoredRefreshToken(
                id: refreshID, ciphertext: sealed.ciphertext, issuedAt: new.issuedAt, expiresAt: new.refreshExpiresAt,
                familyID: new.familyID)
        }
        let token = StoredToken(
            accessTokenID: accessID, accessCiphertext: new.access.ciphertext, issuedAt: new.issuedAt,
            expiresAt: new.accessExpiresAt, refreshToken: refresh)
        return (token, retired)
    }
}
