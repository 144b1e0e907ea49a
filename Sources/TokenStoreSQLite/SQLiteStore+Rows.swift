import Foundation
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
        try db.cachedStatement(
            sql: """
                INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    issued_at, expires_at, family_id, auth_time, state_changed_at)
                VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            Data(sealed.digest), Data(sealed.ciphertext), key.clientID, key.subject.kind, key.subject.name,
            key.scope.description, issuedAt, expiresAt, familyID, authTime, now,
        ])
        return StoredRefreshToken(
            id: db.lastInsertedRowID, ciphertext: sealed.ciphertext, issuedAt: issuedAt, expiresAt: expiresAt,
            familyID: familyID)
    }

    /// Inserts the ACTIVE access token of `key`, issued with `refresh` and in its family.
    static func insertAccessToken(
        _ db: Database, _ sealed: SealedToken, key: TokenKey, grantType: GrantType, issuedAt: EpochMilliseconds,
        expiresAt: EpochMilliseconds, refresh: StoredRefreshToken?, now: EpochMilliseconds
    ) throws -> StoredToken {
        try db.cachedStatement(
            sql: """
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                    state, grant_type, issued_at, expires_at, refresh_token_id, family_id, signing_key_id,
                    state_changed_at)
                VALUES (?, ?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            Data(sealed.digest), Data(sealed.ciphertext), key.clientID, key.subject.kind, key.subject.name,
            key.scope.description, grantType.rawValue, issuedAt, expiresAt, refresh?.id, refresh?.familyID,
            sealed.signingKeyID, now,
        ])
        return StoredToken(
            accessTokenID: db.lastInsertedRowID, accessCiphertext: sealed.ciphertext, issuedAt: issuedAt,
            expiresAt: expiresAt, refreshToken: refresh)
    }
}
