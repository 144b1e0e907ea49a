import Logging
import PostgresNIO
import TokenAuthority

/// The one place each kind of token row is written, and the ACTIVE row of a key read.
extension PostgresStore {
    /// Inserts an ACTIVE refresh token of `key` into `familyID`, with the time its user
    /// authenticated for the original grant.
    static func insertRefreshToken(
        _ connection: PostgresConnection, logger: Logger, _ sealed: SealedToken, key: TokenKey,
        issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds, familyID: Int64, authTime: EpochMilliseconds?,
        now: EpochMilliseconds
    ) async throws -> StoredRefreshToken {
        let rows = try await connection.rows(
            """
            INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                issued_at, expires_at, family_id, auth_time, state_changed_at)
            VALUES (\(bytes(sealed.digest)), \(bytes(sealed.ciphertext)), \(key.clientID), \(key.subject.kind),
                \(key.subject.name), \(key.scope.description), 'ACTIVE', \(issuedAt), \(expiresAt), \(familyID),
                \(authTime), \(now))
            RETURNING id
            """, logger: logger)
        return StoredRefreshToken(
            id: try insertedID(rows), ciphertext: sealed.ciphertext, issuedAt: issuedAt, expiresAt: expiresAt,
            familyID: familyID)
    }

    /// Inserts the ACTIVE access token of `key`, issued with `refresh` and in its family.
    static func insertAccessToken(
        _ connection: PostgresConnection, logger: Logger, _ sealed: SealedToken, key: TokenKey, grantType: GrantType,
        issuedAt: EpochMilliseconds, expiresAt: EpochMilliseconds, refresh: StoredRefreshToken?, now: EpochMilliseconds
    ) async throws -> StoredToken {
        let rows = try await connection.rows(
            """
            INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope,
                state, grant_type, issued_at, expires_at, refresh_token_id, family_id, signing_key_id,
                state_changed_at)
            VALUES (\(bytes(sealed.digest)), \(bytes(sealed.ciphertext)), \(key.clientID), \(key.subject.kind),
                \(key.subject.name), \(key.scope.description), 'ACTIVE', \(grantType.rawValue), \(issuedAt),
                \(expiresAt), \(refresh?.id), \(refresh?.familyID), \(sealed.signingKeyID), \(now))
            RETURNING id
            """, logger: logger)
        return StoredToken(
            accessTokenID: try insertedID(rows), accessCiphertext: sealed.ciphertext, issuedAt: issuedAt,
            expiresAt: expiresAt, refreshToken: refresh)
    }

    /// The ACTIVE token of `key` with its refresh token, if any.
    static func fetchActive(_ connection: PostgresConnection, logger: Logger, key: TokenKey) async throws
        -> StoredToken?
    {
        let rows = try await connection.rows(
            """
            SELECT a.id, a.token_sealed, a.issued_at, a.expires_at,
                   r.id, r.token_sealed, r.issued_at, r.expires_at, r.family_id
            FROM access_tokens a LEFT JOIN refresh_tokens r ON r.id = a.refresh_token_id
            WHERE a.client_id = \(key.clientID) AND a.subject_type = \(key.subject.kind)
              AND a.subject = \(key.subject.name) AND a.scope = \(key.scope.description) AND a.state = 'ACTIVE'
            """, logger: logger)
        return try rows.first.map(activeToken)
    }

    /// `fetchActive` after taking the key's transaction lock (`lockKey`), in one round trip:
    /// the function `lock_token_key` (migrations/postgresql) reads after the wait for the
    /// lock, so it sees what the key's previous writer committed.
    static func lockAndFetchActive(_ connection: PostgresConnection, logger: Logger, key: TokenKey) async throws
        -> StoredToken?
    {
        let rows = try await connection.rows(
            """
            SELECT * FROM lock_token_key(\(AdvisoryLock.tokenKeyClass), \(key.lockText), \(key.clientID),
                \(key.subject.kind), \(key.subject.name), \(key.scope.description))
            """, logger: logger)
        return try rows.first.map(activeToken)
    }

    /// An ACTIVE access token and its refresh token, as `fetchActive` reads them.
    private static func activeToken(_ row: PostgresRow) throws -> StoredToken {
        let (id, sealed, issuedAt, expiresAt, refreshID, refreshSealed, refreshIssuedAt, refreshExpiresAt, familyID) =
            try row.decode(
                (Int64, ByteBuffer, Int64, Int64, Int64?, ByteBuffer?, Int64?, Int64?, Int64?).self)
        var refresh: StoredRefreshToken?
        if let refreshID, let refreshSealed, let refreshIssuedAt, let refreshExpiresAt {
            refresh = StoredRefreshToken(
                id: refreshID, ciphertext: Array(refreshSealed.readableBytesView), issuedAt: refreshIssuedAt,
                expiresAt: refreshExpiresAt, familyID: familyID ?? refreshID)
        }
        return StoredToken(
            accessTokenID: id, accessCiphertext: Array(sealed.readableBytesView), issuedAt: issuedAt,
            expiresAt: expiresAt, refreshToken: refresh)
    }

    /// The `id` an INSERT … RETURNING id gave back.
    static func insertedID(_ rows: [PostgresRow]) throws -> Int64 {
        guard let row = rows.first else { throw PostgresStoreInconsistency("an INSERT returned no id") }
        return try row.decode(Int64.self)
    }
}

/// Bytes as a `bytea` parameter (`[UInt8]` alone would bind as an array of "char").
func bytes(_ value: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: value)
}

extension ByteBuffer {
    var byteArray: [UInt8] { Array(readableBytesView) }
}
