import Logging
import PostgresNIO
import TokenAuthority

extension PostgresStore {
    func refresh(
        digest: [UInt8], at now: EpochMilliseconds,
        decide: @escaping @Sendable (PresentedRefreshToken?) -> RefreshDecision
    ) async throws -> RefreshOutcome {
        // One transaction. The presented token's key is locked first, as issuance
        // locks it, then its row FOR UPDATE: of two simultaneous refreshes with one
        // token, the second waits for the first's commit, reads its rotation and is a
        // replay. A replay's family revocation commits in this same transaction with
        // synchronous_commit on, before this returns (docs/storage.md, "Durability");
        // only a rotation turns it off.
        try await transaction(retryingUniqueViolations: true) { connection, logger in
            if let key = try await Self.refreshTokenKey(connection, logger: logger, digest: digest) {
                try await connection.lockKey(key, logger: logger)
            }
            let row = try await Self.fetchRefreshToken(connection, logger: logger, digest: digest)
            switch decide(row?.presented) {
            case .refuse(let error):
                return .refused(error)
            case .replay(let familyID):
                try await Self.revokeFamily(connection, logger: logger, familyID: familyID, now: now)
                return .replayed
            case .rotate(let rotation):
                guard let row else { throw PostgresStoreInconsistency("a rotation was decided for no refresh token") }
                try await connection.rows("SELECT set_config('synchronous_commit', 'off', true)", logger: logger)
                let token = try await Self.rotate(connection, logger: logger, presented: row, rotation: rotation, now: now)
                return .rotated(token, key: rotation.key, authTime: row.presented.authTime)
            }
        }
    }

    // MARK: Rows

    private struct RefreshRow: Sendable {
        var presented: PresentedRefreshToken
        var key: TokenKey
        var sealed: [UInt8]
    }

    /// The key of the refresh token with this digest, read without a lock.
    private static func refreshTokenKey(_ connection: PostgresConnection, logger: Logger, digest: [UInt8])
        async throws -> TokenKey?
    {
        let rows = try await connection.rows(
            "SELECT client_id, subject_type, subject, scope FROM refresh_tokens WHERE token_sha256 = \(bytes(digest))",
            logger: logger)
        guard let row = rows.first else { return nil }
        let (clientID, subjectType, subject, scope) = try row.decode((String, String, String, String).self)
        guard let subject = Subject(kind: subjectType, name: subject) else { return nil }
        return TokenKey(clientID: clientID, subject: subject, scope: scopeSet(scope))
    }

    private static func fetchRefreshToken(_ connection: PostgresConnection, logger: Logger, digest: [UInt8])
        async throws -> RefreshRow?
    {
        let rows = try await connection.rows(
            """
            SELECT id, client_id, subject_type, subject, scope, state, issued_at, expires_at, family_id, token_sealed,
                   auth_time
            FROM refresh_tokens WHERE token_sha256 = \(bytes(digest)) FOR UPDATE
            """, logger: logger)
        guard let row = rows.first else { return nil }
        let (id, clientID, subjectType, name, scope, stateName, issuedAt, expiresAt, familyID, sealed, authTime) =
            try row.decode((Int64, String, String, String, String, String, Int64, Int64, Int64, ByteBuffer, Int64?).self)
        guard let subject = Subject(kind: subjectType, name: name), let state = TokenState(rawValue: stateName) else {
            return nil
        }
        let scopes = scopeSet(scope)
        return RefreshRow(
            presented: PresentedRefreshToken(
                id: id, clientID: clientID, subject: subject, scope: scopes, state: state, issuedAt: issuedAt,
                expiresAt: expiresAt, familyID: familyID, authTime: authTime),
            key: TokenKey(clientID: clientID, subject: subject, scope: scopes), sealed: sealed.byteArray)
    }

    /// The refresh grant's rotation (docs/token-renewal.md, "The refresh grant"), in the
    /// transaction of `refresh`.
    private static func rotate(
        _ connection: PostgresConnection, logger: Logger, presented row: RefreshRow, rotation: RefreshRotation,
        now: EpochMilliseconds
    ) async throws -> StoredToken {
        let presented = row.presented
        let key = rotation.key
        // A narrowed scope writes on a key of its own: queue behind its issuers too.
        if key != row.key { try await connection.lockKey(key, logger: logger) }
        // The access tokens issued with the presented refresh token leave ACTIVE.
        try await connection.rows(
            """
            UPDATE access_tokens SET state = 'INACTIVE', state_changed_at = \(now)
            WHERE refresh_token_id = \(presented.id) AND state = 'ACTIVE'
            """, logger: logger)
        // A pair still ACTIVE on the new key (a narrowed scope's own token) is REVOKED.
        let others = try await connection.rows(
            """
            UPDATE access_tokens SET state = 'REVOKED', state_changed_at = \(now)
            WHERE client_id = \(key.clientID) AND subject_type = \(key.subject.kind) AND subject = \(key.subject.name)
              AND scope = \(key.scope.description) AND state = 'ACTIVE'
            RETURNING refresh_token_id
            """, logger: logger)
        for other in others {
            if let otherRefresh = try other.decode(Int64?.self), otherRefresh != presented.id {
                try await connection.rows(
                    """
                    UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = \(now)
                    WHERE id = \(otherRefresh) AND state = 'ACTIVE'
                    """, logger: logger)
            }
        }
        let refresh: StoredRefreshToken
        switch rotation.refresh {
        case .keep:
            refresh = StoredRefreshToken(
                id: presented.id, ciphertext: row.sealed, issuedAt: presented.issuedAt, expiresAt: presented.expiresAt,
                familyID: presented.familyID)
        case .replace(let sealed, let issuedAt, let expiresAt):
            // Rotated: INACTIVE marks it as used, so presenting it again is a replay.
            try await connection.rows(
                "UPDATE refresh_tokens SET state = 'INACTIVE', state_changed_at = \(now) WHERE id = \(presented.id)",
                logger: logger)
            refresh = try await insertRefreshToken(
                connection, logger: logger, sealed, key: key, issuedAt: issuedAt, expiresAt: expiresAt,
                familyID: presented.familyID, authTime: presented.authTime, now: now)
        }
        return try await insertAccessToken(
            connection, logger: logger, rotation.access, key: key, grantType: .refreshToken,
            issuedAt: rotation.issuedAt, expiresAt: rotation.accessExpiresAt, refresh: refresh, now: now)
    }

    /// Every ACTIVE token descended from the family's original grant becomes REVOKED
    /// (RFC 9700 §4.14.2). Rotated (INACTIVE) refresh tokens stay as they are, so
    /// presenting one again is still recognised as a replay.
    static func revokeFamily(_ connection: PostgresConnection, logger: Logger, familyID: Int64, now: EpochMilliseconds)
        async throws
    {
        try await connection.rows(
            """
            UPDATE access_tokens SET state = 'REVOKED', state_changed_at = \(now)
            WHERE family_id = \(familyID) AND state = 'ACTIVE'
            """, logger: logger)
        try await connection.rows(
            """
            UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = \(now)
            WHERE family_id = \(familyID) AND state = 'ACTIVE'
            """, logger: logger)
    }
}

/// A stored scope, canonical when it was written.
func scopeSet(_ stored: String) -> ScopeSet {
    ScopeSet(validated: stored.split(separator: " ").map(String.init))
}
