import Logging
import PostgresNIO
import TokenAuthority

extension PostgresStore {
    func refresh(
        digest: [UInt8], at now: EpochMilliseconds,
        decide: @escaping @Sendable (PresentedRefreshToken?) -> RefreshDecision
    ) async throws -> RefreshOutcome {
        let logger = logger
        // First the presented token, read without a lock. A refusal decided on that read is
        // answered at once: it writes nothing, and it is what a decision under the lock would
        // have been had this request come before whatever commits next. A rotation decided on
        // it is applied by rotate_refresh_token, which takes the locks and changes nothing unless
        // the token is still ACTIVE (migrations/postgresql): two round trips, neither under a
        // lock. A replay, or a token rotated meanwhile, is decided again below.
        let seen = try await withConnection { try await Self.fetchRefreshToken($0, logger: logger, digest: digest) }
        switch decide(seen?.presented) {
        case .refuse(let error):
            return .refused(error)
        case .rotate(let rotation):
            if let seen,
                let token = try await retrying(
                    uniqueViolations: true,
                    {
                        try await withConnection { connection in
                            try await Self.rotate(connection, logger: logger, presented: seen, rotation: rotation, now: now)
                        }
                    })
            {
                return .rotated(token, key: rotation.key, authTime: seen.presented.authTime)
            }
        case .replay:
            break
        }
        // Otherwise one transaction, four round trips when it rotates: BEGIN; the presented
        // token's key locked, as issuance locks it, and then its row read FOR UPDATE
        // (locked_refresh_token): of two simultaneous refreshes with one token, the second waits
        // for the first's commit, reads its rotation and is a replay; the rotation's writes
        // (rotate_refresh_token); COMMIT. A replay's family revocation commits in this same
        // transaction with synchronous_commit on, before this returns (docs/storage.md,
        // "PostgreSQL"); only a rotation turns it off.
        return try await transaction(retryingUniqueViolations: true) { connection, logger in
            let row = try await Self.lockAndFetchRefreshToken(connection, logger: logger, digest: digest)
            switch decide(row?.presented) {
            case .refuse(let error):
                return .refused(error)
            case .replay(let familyID):
                try await Self.revokeFamily(connection, logger: logger, familyID: familyID, now: now)
                return .replayed
            case .rotate(let rotation):
                guard let row,
                    let token = try await Self.rotate(
                        connection, logger: logger, presented: row, rotation: rotation, now: now)
                else { throw PostgresStoreInconsistency("a rotation was decided for no ACTIVE refresh token") }
                return .rotated(token, key: rotation.key, authTime: row.presented.authTime)
            }
        }
    }

    // MARK: Rows

    private struct RefreshRow: Sendable {
        var presented: PresentedRefreshToken
        var sealed: [UInt8]
    }

    /// The refresh token with this digest, whatever its state, read without a lock.
    private static func fetchRefreshToken(_ connection: PostgresConnection, logger: Logger, digest: [UInt8])
        async throws -> RefreshRow?
    {
        let rows = try await connection.rows(
            """
            SELECT id, client_id, subject_type, subject, scope, state, issued_at, expires_at, family_id, token_sealed,
                   auth_time
            FROM refresh_tokens WHERE token_sha256 = \(bytes(digest))
            """, logger: logger)
        return try rows.first.flatMap(refreshRow)
    }

    /// The refresh token with this digest, whatever its state, read FOR UPDATE after taking
    /// its key's lock, in one round trip (the function `locked_refresh_token`).
    private static func lockAndFetchRefreshToken(_ connection: PostgresConnection, logger: Logger, digest: [UInt8])
        async throws -> RefreshRow?
    {
        let rows = try await connection.rows(
            """
            SELECT id, client_id, subject_type, subject, scope, state, issued_at, expires_at, family_id, token_sealed,
                   auth_time
            FROM locked_refresh_token(\(AdvisoryLock.tokenKeyClass), \(bytes(digest)))
            """, logger: logger)
        return try rows.first.flatMap(refreshRow)
    }

    /// A row of `fetchRefreshToken` or `lockAndFetchRefreshToken`; `nil` for one this
    /// version cannot read (an unknown subject type or state).
    private static func refreshRow(_ row: PostgresRow) throws -> RefreshRow? {
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
            sealed: sealed.byteArray)
    }

    /// The refresh grant's rotation (docs/token-renewal.md, "The refresh grant") in one
    /// statement, the function `rotate_refresh_token`; `nil`, having changed nothing, when
    /// the presented token is no longer ACTIVE.
    private static func rotate(
        _ connection: PostgresConnection, logger: Logger, presented row: RefreshRow, rotation: RefreshRotation,
        now: EpochMilliseconds
    ) async throws -> StoredToken? {
        let presented = row.presented
        let key = rotation.key
        var replacement: (sealed: SealedToken, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds)?
        if case .replace(let sealed, let issuedAt, let expiresAt) = rotation.refresh {
            replacement = (sealed, issuedAt, expiresAt)
        }
        let rows = try await connection.rows(
            """
            SELECT access_id, refresh_id FROM rotate_refresh_token(
                \(AdvisoryLock.tokenKeyClass), \(presented.id), \(presented.scope.description),
                \(presented.familyID), \(presented.authTime),
                \(key.clientID), \(key.subject.kind), \(key.subject.name), \(key.scope.description),
                \(bytes(rotation.access.digest)), \(bytes(rotation.access.ciphertext)),
                \(GrantType.refreshToken.rawValue), \(rotation.issuedAt), \(rotation.accessExpiresAt),
                \(rotation.access.signingKeyID), \(replacement.map { bytes($0.sealed.digest) }),
                \(replacement.map { bytes($0.sealed.ciphertext) }), \(replacement?.issuedAt),
                \(replacement?.expiresAt), \(now))
            """, logger: logger)
        guard let result = rows.first else { return nil }
        let (accessID, refreshID) = try result.decode((Int64, Int64).self)
        let refresh =
            if let replacement {
                StoredRefreshToken(
                    id: refreshID, ciphertext: replacement.sealed.ciphertext, issuedAt: replacement.issuedAt,
                    expiresAt: replacement.expiresAt, familyID: presented.familyID)
            } else {
                StoredRefreshToken(
                    id: presented.id, ciphertext: row.sealed, issuedAt: presented.issuedAt,
                    expiresAt: presented.expiresAt, familyID: presented.familyID)
            }
        return StoredToken(
            accessTokenID: accessID, accessCiphertext: rotation.access.ciphertext, issuedAt: rotation.issuedAt,
            expiresAt: rotation.accessExpiresAt, refreshToken: refresh)
    }

    /// Every ACTIVE token descended from the family's original grant becomes REVOKED
    /// (RFC 9700 §4.14.2). Rotated (INACTIVE) refresh tokens stay as they are, so
    /// presenting one again is still recognised as a replay.
    /// - Returns: how many tokens it revoked.
    @discardableResult
    static func revokeFamily(_ connection: PostgresConnection, logger: Logger, familyID: Int64, now: EpochMilliseconds)
        async throws -> Int
    {
        let accessTokens = try await connection.rows(
            """
            UPDATE access_tokens SET state = 'REVOKED', state_changed_at = \(now)
            WHERE family_id = \(familyID) AND state = 'ACTIVE' RETURNING 1
            """, logger: logger)
        let refreshTokens = try await connection.rows(
            """
            UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = \(now)
            WHERE family_id = \(familyID) AND state = 'ACTIVE' RETURNING 1
            """, logger: logger)
        return accessTokens.count + refreshTokens.count
    }
}

/// A stored scope, canonical when it was written.
func scopeSet(_ stored: String) -> ScopeSet {
    ScopeSet(validated: stored.split(separator: " ").map(String.init))
}
