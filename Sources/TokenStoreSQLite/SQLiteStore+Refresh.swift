import GRDB
import TokenAuthority

extension SQLiteStore {
    func refresh(
        digest: [UInt8], at now: EpochMilliseconds,
        decide: @escaping @Sendable (PresentedRefreshToken?) -> RefreshDecision
    ) async throws -> RefreshOutcome {
        // One IMMEDIATE transaction, shared with other token writes queued at the same
        // moment (GroupCommit): of two simultaneous refreshes with one token, the second
        // sees the first's rotation and is a replay.
        let rotateOrRefuse: @Sendable (Database) throws -> RefreshStep = { db in
            let row = try Self.fetchRefreshToken(db, digest: digest)
            switch decide(row?.presented) {
            case .refuse(let error):
                return .done(.refused(error))
            case .replay(let familyID):
                return .revokeFamily(familyID)
            case .rotate(let rotation):
                guard let row else { throw DatabaseError(message: "a rotation was decided for no refresh token") }
                let token = try Self.rotate(db, presented: row, rotation: rotation, now: now)
                return .done(.rotated(token, key: rotation.key, authTime: row.presented.authTime))
            }
        }
        let step = try await Self.mappingUnavailable { try await groupCommit.write(rotateOrRefuse) }
        switch step {
        case .done(let outcome):
            return outcome
        case .revokeFamily(let familyID):
            // Durable (docs/storage.md, "Durability"): once the client hears invalid_grant, the
            // family is revoked for good.
            try await durableWrite { db in _ = try Self.revokeFamily(db, familyID: familyID, now: now) }
            return .replayed
        }
    }

    // MARK: Rows

    private enum RefreshStep: Sendable {
        case done(RefreshOutcome)
        case revokeFamily(Int64)
    }

    private struct RefreshRow: Sendable {
        var presented: PresentedRefreshToken
        var sealed: [UInt8]
    }

    private static func fetchRefreshToken(_ db: Database, digest: [UInt8]) throws -> RefreshRow? {
        // SQLite's own API, as in `fetchActive`: every refresh takes this path.
        let statement = RawStatement(
            try db.cachedStatement(
                sql: """
                    SELECT id, client_id, subject_type, subject, scope, state, issued_at, expires_at, family_id,
                           token_sealed, auth_time
                    FROM refresh_tokens WHERE token_sha256 = ?
                    """), in: db)
        try statement.bind(digest, at: 1)
        guard try statement.step(),
            let subject = Subject(kind: statement.text(2), name: statement.text(3)),
            let state = TokenState(rawValue: statement.text(5))
        else { return nil }
        let id = statement.int64(0)
        return RefreshRow(
            presented: PresentedRefreshToken(
                id: id, clientID: statement.text(1), subject: subject,
                scope: ScopeSet(validated: statement.text(4).split(separator: " ").map(String.init)), state: state,
                issuedAt: statement.int64(6), expiresAt: statement.int64(7),
                familyID: statement.isNull(8) ? id : statement.int64(8),
                authTime: statement.isNull(10) ? nil : statement.int64(10)),
            sealed: statement.bytes(9))
    }

    /// The refresh grant's rotation (docs/token-renewal.md, "The refresh grant"), in the
    /// transaction of `refresh`.
    private static func rotate(
        _ db: Database, presented row: RefreshRow, rotation: RefreshRotation, now: EpochMilliseconds
    ) throws -> StoredToken {
        let presented = row.presented
        let key = rotation.key
        // The access tokens issued with the presented refresh token leave ACTIVE.
        let leave = RawStatement(
            try db.cachedStatement(
                sql: "UPDATE access_tokens SET state = 'INACTIVE', state_changed_at = ? WHERE refresh_token_id = ? AND state = 'ACTIVE'"
            ), in: db)
        try leave.bind(now, at: 1)
        try leave.bind(presented.id, at: 2)
        try leave.execute()
        // A pair still ACTIVE on the new key (a narrowed scope's own token) is REVOKED.
        if let other = try fetchActive(db, key: key) {
            try db.execute(
                sql: "UPDATE access_tokens SET state = 'REVOKED', state_changed_at = ? WHERE id = ?",
                arguments: [now, other.accessTokenID])
            if let otherRefresh = other.refreshToken?.id, otherRefresh != presented.id {
                try db.execute(
                    sql: "UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = ? WHERE id = ? AND state = 'ACTIVE'",
                    arguments: [now, otherRefresh])
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
            let used = RawStatement(
                try db.cachedStatement(sql: "UPDATE refresh_tokens SET state = 'INACTIVE', state_changed_at = ? WHERE id = ?"),
                in: db)
            try used.bind(now, at: 1)
            try used.bind(presented.id, at: 2)
            try used.execute()
            refresh = try insertRefreshToken(
                db, sealed, key: key, issuedAt: issuedAt, expiresAt: expiresAt, familyID: presented.familyID,
                authTime: presented.authTime, now: now)
        }
        return try insertAccessToken(
            db, rotation.access, key: key, grantType: .refreshToken, issuedAt: rotation.issuedAt,
            expiresAt: rotation.accessExpiresAt, refresh: refresh, now: now)
    }

    /// Every ACTIVE token descended from the family's original grant becomes REVOKED.
    /// Rotated (INACTIVE) refresh tokens stay as they are, so presenting one again
    /// is still recognised as a replay.
    /// - Returns: how many tokens it revoked.
    @discardableResult
    static func revokeFamily(_ db: Database, familyID: Int64, now: EpochMilliseconds) throws -> Int {
        try db.execute(
            sql: "UPDATE access_tokens SET state = 'REVOKED', state_changed_at = ? WHERE family_id = ? AND state = 'ACTIVE'",
            arguments: [now, familyID])
        let accessTokens = db.changesCount
        try db.execute(
            sql: "UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = ? WHERE family_id = ? AND state = 'ACTIVE'",
            arguments: [now, familyID])
        return accessTokens + db.changesCount
    }
}
