import GRDB
import TokenAuthority

/// The one place each kind of token row is written.
extension SQLiteStore {
    /// Inserts an ACTIVE refresh token of `key` into `familyID`, with the time its user
    /// authenticated for the original grant.
    static func insertRefreshToken(
        _ db: Database, _ sealed: SealedToken, key: TokenKey, issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds,
        familyID: Int64, authTime: EpochMilliseconds?, now: EpochMilliseconds
    ) throws -> StoredRefreshToken {
        let statement = RawStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                        state, issued_at, expires_at, family_id, auth_time, state_changed_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)
                    """), in: db)
        try statement.bind(sealed.digest, at: 1)
        try statement.bind(sealed.ciphertext, at: 2)
        try bindKey(key, from: 3, to: statement)
        try statement.bind(issuedAt, at: 7)
        try statement.bind(expiresAt, at: 8)
        try statement.bind(familyID, at: 9)
        try statement.bind(authTime, at: 10)
        try statement.bind(now, at: 11)
        try statement.execute()
        return StoredRefreshToken(
            id: db.lastInsertedRowID, ciphertext: sealed.ciphertext, issuedAt: issuedAt, expiresAt: expiresAt,
            familyID: familyID)
    }

    /// Inserts the ACTIVE access token of `key`, issued with `refresh` and in its family.
    static func insertAccessToken(
        _ db: Database, _ sealed: SealedToken, key: TokenKey, grantType: GrantType, issuedAt: EpochMilliseconds,
        expiresAt: EpochMilliseconds, refresh: StoredRefreshToken?, now: EpochMilliseconds
    ) throws -> StoredToken {
        let statement = RawStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                        state, grant_type, issued_at, expires_at, refresh_token_id, family_id, signing_key_id,
                        state_changed_at)
                    VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?)
                    """), in: db)
        try statement.bind(sealed.digest, at: 1)
        try statement.bind(sealed.ciphertext, at: 2)
        try bindKey(key, from: 3, to: statement)
        try statement.bind(grantType.rawValue, at: 7)
        try statement.bind(issuedAt, at: 8)
        try statement.bind(expiresAt, at: 9)
        try statement.bind(refresh?.id, at: 10)
        try statement.bind(refresh?.familyID, at: 11)
        try statement.bind(sealed.signingKeyID, at: 12)
        try statement.bind(now, at: 13)
        try statement.execute()
        return StoredToken(
            accessTokenID: db.lastInsertedRowID, accessCiphertext: sealed.ciphertext, issuedAt: issuedAt,
            expiresAt: expiresAt, refreshToken: refresh)
    }

    /// Binds a key's four parts, in the order the schema lists them (client, subject type,
    /// subject, scope), to the parameters from `first` on.
    static func bindKey(_ key: TokenKey, from first: Int32, to statement: borrowing RawStatement) throws {
        try statement.bind(key.clientID, at: first)
        try statement.bind(key.subject.kind, at: first + 1)
        try statement.bind(key.subject.name, at: first + 2)
        try statement.bind(key.scope.description, at: first + 3)
    }
}
