import Logging
import PostgresNIO
import TokenAuthority

extension PostgresStore {
    func findToken(digest: [UInt8], preferring kind: TokenKind?) async throws -> FoundToken? {
        let order: [TokenKind] = kind == .refreshToken ? [.refreshToken, .accessToken] : [.accessToken, .refreshToken]
        let logger = logger
        return try await withConnection { connection in
            for kind in order {
                if let found = try await Self.find(connection, logger: logger, digest: digest, in: kind) { return found }
            }
            return nil
        }
    }

    func revokeToken(digest: [UInt8], ownedBy clientID: String?, at now: EpochMilliseconds) async throws
        -> RevocationOutcome
    {
        // Committed with synchronous_commit on before the answer (docs/storage.md,
        // "Durability"). The token's key is locked, as issuance and refresh lock it,
        // and the row read again under the lock: the decision is taken on what the
        // last writer of the key committed, as under SQLite's single writer.
        try await transaction { connection, logger in
            guard let seen = try await Self.findAny(connection, logger: logger, digest: digest) else {
                return .nothingToRevoke
            }
            try await connection.lockKey(
                TokenKey(clientID: seen.clientID, subject: seen.subject, scope: seen.scopeSet), logger: logger)
            guard let found = try await Self.findAny(connection, logger: logger, digest: digest) else {
                return .nothingToRevoke
            }
            if let clientID, !found.clientID.sameBytes(as: clientID) { return .otherClient }
            let hash = bytes(digest)
            if found.kind == .refreshToken, found.state == .inactive {
                let row = try await connection.rows(
                    "SELECT family_id FROM refresh_tokens WHERE token_sha256 = \(hash)", logger: logger
                ).first
                guard let familyID = try row?.decode(Int64?.self) ?? nil,
                    try await Self.revokeFamily(connection, logger: logger, familyID: familyID, now: now) > 0
                else { return .nothingToRevoke }
                return .revoked
            }
            guard found.state == .active else { return .nothingToRevoke }
            switch found.kind {
            case .accessToken:
                // The access token, and the refresh token issued with it.
                try await connection.rows(
                    """
                    UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = \(now)
                    WHERE state = 'ACTIVE'
                      AND id = (SELECT refresh_token_id FROM access_tokens WHERE token_sha256 = \(hash))
                    """, logger: logger)
                try await connection.rows(
                    "UPDATE access_tokens SET state = 'REVOKED', state_changed_at = \(now) WHERE token_sha256 = \(hash)",
                    logger: logger)
            case .refreshToken:
                // The refresh token, and the access tokens issued with it.
                try await connection.rows(
                    """
                    UPDATE access_tokens SET state = 'REVOKED', state_changed_at = \(now)
                    WHERE state = 'ACTIVE'
                      AND refresh_token_id = (SELECT id FROM refresh_tokens WHERE token_sha256 = \(hash))
                    """, logger: logger)
                try await connection.rows(
                    "UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = \(now) WHERE token_sha256 = \(hash)",
                    logger: logger)
            }
            return .revoked
        }
    }

    /// The access token with this digest, else the refresh token.
    private static func findAny(_ connection: PostgresConnection, logger: Logger, digest: [UInt8]) async throws
        -> FoundToken?
    {
        if let found = try await find(connection, logger: logger, digest: digest, in: .accessToken) { return found }
        return try await find(connection, logger: logger, digest: digest, in: .refreshToken)
    }

    private static func find(_ connection: PostgresConnection, logger: Logger, digest: [UInt8], in kind: TokenKind)
        async throws -> FoundToken?
    {
        let query: PostgresQuery =
            switch kind {
            case .accessToken:
                """
                SELECT client_id, subject_type, subject, scope, state, issued_at, expires_at
                FROM access_tokens WHERE token_sha256 = \(bytes(digest))
                """
            case .refreshToken:
                """
                SELECT client_id, subject_type, subject, scope, state, issued_at, expires_at
                FROM refresh_tokens WHERE token_sha256 = \(bytes(digest))
                """
            }
        guard let row = try await connection.rows(query, logger: logger).first else { return nil }
        let (clientID, subjectType, name, scope, stateName, issuedAt, expiresAt) =
            try row.decode((String, String, String, String, String, Int64, Int64).self)
        guard let subject = Subject(kind: subjectType, name: name), let state = TokenState(rawValue: stateName) else {
            return nil
        }
        return FoundToken(
            kind: kind, clientID: clientID, subject: subject, scope: scope, state: state, issuedAt: issuedAt,
            expiresAt: expiresAt)
    }
}
