import Logging
import PostgresNIO
import TokenAuthority

/// The ACTIVE row of a key, read. Token rows are written by the functions of
/// migrations/postgresql (`issue_token`, `rotate_refresh_token`).
extension PostgresStore {
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
    /// the function `locked_active_token` (migrations/postgresql) reads after the wait for
    /// the lock, so it sees what the key's previous writer committed.
    static func lockAndFetchActive(_ connection: PostgresConnection, logger: Logger, key: TokenKey) async throws
        -> StoredToken?
    {
        let rows = try await connection.rows(
            """
            SELECT * FROM locked_active_token(\(AdvisoryLock.tokenKeyClass), \(key.clientID),
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
}

/// Bytes as a `bytea` parameter (`[UInt8]` alone would bind as an array of "char").
func bytes(_ value: [UInt8]) -> ByteBuffer {
    ByteBuffer(bytes: value)
}

extension ByteBuffer {
    var byteArray: [UInt8] { Array(readableBytesView) }
}
