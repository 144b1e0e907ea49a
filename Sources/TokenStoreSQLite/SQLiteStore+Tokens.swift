import GRDB
import TokenAuthority

extension SQLiteStore {
    func activeToken(for key: TokenKey) async throws -> StoredToken? {
        try await activeTokens.value(for: key) {
            try await lookup { db in try Self.fetchActive(db, key: key) }
        }
    }

    func issue(
        _ newToken: NewTokenPair, for key: TokenKey,
        decide: @escaping @Sendable (StoredToken?) -> IssuanceDecision
    ) async throws -> StoredToken {
        // An IMMEDIATE transaction, shared with other issuances queued at the same
        // moment (GroupCommit): the read below and the writes after it see no other
        // writer, in this process or another.
        try await Self.mappingUnavailable {
            try await groupCommit.write { db in
                let active = try Self.fetchActive(db, key: key)
                guard case .issue(let retiring, let refreshDisposition) = decide(active) else {
                    guard let active else { throw DatabaseError(message: "reuse was decided for a key with no ACTIVE token") }
                    return active
                }
                let now = newToken.issuedAt
                if let active {
                    let retire = RawStatement(
                        try db.cachedStatement(sql: "UPDATE access_tokens SET state = ?, state_changed_at = ? WHERE id = ?"),
                        in: db)
                    try retire.bind(retiring.rawValue, at: 1)
                    try retire.bind(now, at: 2)
                    try retire.bind(active.accessTokenID, at: 3)
                    try retire.execute()
                }
                let refresh: StoredRefreshToken?
                switch refreshDisposition {
                case .none:
                    refresh = nil
                case .carryOver where active?.refreshToken != nil:
                    refresh = active?.refreshToken
                case .carryOver, .issueNew:
                    if case .issueNew(let refreshRetiring) = refreshDisposition, let old = active?.refreshToken {
                        let retire = RawStatement(
                            try db.cachedStatement(
                                sql: "UPDATE refresh_tokens SET state = ?, state_changed_at = ? WHERE id = ? AND state = 'ACTIVE'"
                            ), in: db)
                        try retire.bind(refreshRetiring.rawValue, at: 1)
                        try retire.bind(now, at: 2)
                        try retire.bind(old.id, at: 3)
                        try retire.execute()
                    }
                    guard let sealed = newToken.refresh else {
                        throw DatabaseError(message: "a refresh token was planned but not prepared")
                    }
                    refresh = try Self.insertRefreshToken(
                        db, sealed, key: key, issuedAt: newToken.issuedAt, expiresAt: newToken.refreshExpiresAt,
                        familyID: newToken.familyID, authTime: newToken.authTime, now: now)
                }
                return try Self.insertAccessToken(
                    db, newToken.access, key: key, grantType: newToken.grantType, issuedAt: newToken.issuedAt,
                    expiresAt: newToken.accessExpiresAt, refresh: refresh, now: now)
            }
        }
    }

    func tokens(matching filter: TokenFilter) async throws -> [TokenSummary] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let clientID = filter.clientID {
                conditions.append("client_id = ?")
                arguments += [clientID]
            }
            if let username = filter.username {
                conditions.append("subject_type = 'user' AND subject = ?")
                arguments += [username]
            }
            if let state = filter.state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [filter.limit]
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT id, client_id, subject_type, subject, scope, state, grant_type, issued_at, expires_at,
                           refresh_token_id
                    FROM access_tokens \(whereClause) ORDER BY id DESC LIMIT ?
                    """,
                arguments: arguments
            ).map { row in
                TokenSummary(
                    id: row["id"], clientID: row["client_id"],
                    subject: Subject(kind: row["subject_type"], name: row["subject"]) ?? .client(row["subject"]),
                    scope: row["scope"], state: TokenState(rawValue: row["state"]) ?? .inactive,
                    grantType: row["grant_type"], issuedAt: row["issued_at"], expiresAt: row["expires_at"],
                    refreshTokenID: row["refresh_token_id"])
            }
        }
    }

    // MARK: Rows

    static func fetchActive(_ db: Database, key: TokenKey) throws -> StoredToken? {
        // SQLite's own API: GRDB's row and value conversions cost more than the query
        // itself on this path, which every reuse takes (docs/performance.md, "A reuse
        // request, stage by stage").
        let statement = RawStatement(
            try db.cachedStatement(
                sql: """
                    SELECT a.id, a.token_sealed, a.issued_at, a.expires_at,
                           r.id AS r_id, r.token_sealed AS r_sealed, r.issued_at AS r_issued_at, r.expires_at AS r_expires_at,
                           r.family_id AS r_family_id
                    FROM access_tokens a LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
                    WHERE a.client_id = ? AND a.subject_type = ? AND a.subject = ? AND a.scope = ? AND a.state = 'ACTIVE'
                    """), in: db)
        try bindKey(key, from: 1, to: statement)
        guard try statement.step() else { return nil }
        let refreshToken: StoredRefreshToken? =
            statement.isNull(4)
            ? nil
            : StoredRefreshToken(
                id: statement.int64(4), ciphertext: statement.bytes(5), issuedAt: statement.int64(6),
                expiresAt: statement.int64(7), familyID: statement.isNull(8) ? statement.int64(4) : statement.int64(8))
        return StoredToken(
            accessTokenID: statement.int64(0), accessCiphertext: statement.bytes(1), issuedAt: statement.int64(2),
            expiresAt: statement.int64(3), refreshToken: refreshToken)
    }
}
