import PostgresNIO
import TokenAuthority

extension PostgresStore {
    /// The reuse fast path: one plain SELECT, no lock and no transaction.
    func activeToken(for key: TokenKey) async throws -> StoredToken? {
        let logger = logger
        return try await withConnection { connection in
            try await Self.fetchActive(connection, logger: logger, key: key)
        }
    }

    func issue(
        _ newToken: NewTokenPair, for key: TokenKey,
        decide: @escaping @Sendable (StoredToken?) -> IssuanceDecision
    ) async throws -> StoredToken {
        // One transaction, four round trips: BEGIN; the key's lock and its ACTIVE token
        // (locked_active_token); the decision's writes (issue_token); COMMIT. The writers of one
        // key queue behind its lock, so the round trips it is held for bound how often one key
        // can be renewed. A concurrent issuance that still slipped in first makes the insert a
        // unique violation: the transaction runs again and decides on the winner's row.
        try await transaction(retryingUniqueViolations: true) { connection, logger in
            let active = try await Self.lockAndFetchActive(connection, logger: logger, key: key)
            guard case .issue(let retiring, let refreshDisposition) = decide(active) else {
                guard let active else {
                    throw PostgresStoreInconsistency("reuse was decided for a key with no ACTIVE token")
                }
                return active
            }
            let plan = try IssuanceWrites(
                newToken, replacing: active, retiring: retiring, refresh: refreshDisposition)
            return try await Self.write(plan, connection, logger: logger, key: key).token
        }
    }

    func tokens(matching filter: TokenFilter) async throws -> [TokenSummary] {
        // One statement whatever the filter: a NULL parameter matches every row.
        let rows = try await rows(
            """
            SELECT id, client_id, subject_type, subject, scope, state, grant_type, issued_at, expires_at,
                   refresh_token_id
            FROM access_tokens
            WHERE (\(filter.clientID)::text IS NULL OR client_id = \(filter.clientID))
              AND (\(filter.username)::text IS NULL OR (subject_type = 'user' AND subject = \(filter.username)))
              AND (\(filter.state?.rawValue)::text IS NULL OR state = \(filter.state?.rawValue))
            ORDER BY id DESC LIMIT \(max(0, filter.limit))
            """)
        return try rows.map { row in
            let (id, clientID, subjectType, subject, scope, state, grantType, issuedAt, expiresAt, refreshTokenID) =
                try row.decode((Int64, String, String, String, String, String, String, Int64, Int64, Int64?).self)
            return TokenSummary(
                id: id, clientID: clientID, subject: Subject(kind: subjectType, name: subject) ?? .client(subject),
                scope: scope, state: TokenState(rawValue: state) ?? .inactive, grantType: grantType,
                issuedAt: issuedAt, expiresAt: expiresAt, refreshTokenID: refreshTokenID)
        }
    }
}
