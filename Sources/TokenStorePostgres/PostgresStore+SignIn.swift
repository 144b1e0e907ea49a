import PostgresNIO
import TokenAuthority

// Sessions and authorization codes (docs/browser-sign-in.md).
extension PostgresStore {
    func createSession(_ session: NewSession) async throws {
        try await transaction { connection, logger in
            try await connection.rows(
                """
                INSERT INTO sessions (session_sha256, username, auth_time, created_at, expires_at)
                VALUES (\(bytes(session.digest)), \(session.username), \(session.authTime), \(session.createdAt),
                        \(session.expiresAt))
                """, logger: logger)
        }
    }

    func liveSession(digest: [UInt8], at now: EpochMilliseconds) async throws -> SessionRecord? {
        try await rows(
            """
            SELECT username, auth_time, expires_at FROM sessions
            WHERE session_sha256 = \(bytes(digest)) AND ended_at IS NULL AND expires_at > \(now)
            """
        ).first.map { row in
            let (username, authTime, expiresAt) = try row.decode((String, Int64, Int64).self)
            return SessionRecord(username: username, authTime: authTime, expiresAt: expiresAt)
        }
    }

    func endSession(digest: [UInt8], at now: EpochMilliseconds) async throws -> Bool {
        try await transaction { connection, logger in
            !(try await connection.rows(
                """
                UPDATE sessions SET ended_at = \(now)
                WHERE session_sha256 = \(bytes(digest)) AND ended_at IS NULL AND expires_at > \(now) RETURNING 1
                """, logger: logger)
            ).isEmpty
        }
    }

    func createAuthorizationCode(_ code: NewAuthorizationCode) async throws {
        let grant = code.grant
        try await transaction { connection, logger in
            try await connection.rows(
                """
                INSERT INTO authorization_codes (code_sha256, client_id, username, redirect_uri, redirect_uri_named,
                                                 scope, code_challenge, nonce, auth_time, issued_at, expires_at)
                VALUES (\(bytes(code.digest)), \(grant.clientID), \(grant.username), \(grant.redirectURI),
                        \(grant.redirectURIWasNamed), \(grant.scope), \(grant.codeChallenge), \(grant.nonce),
                        \(grant.authTime), \(code.issuedAt), \(code.expiresAt))
                """, logger: logger)
        }
    }

    func redeemAuthorizationCode(digest: [UInt8], clientID: String, at now: EpochMilliseconds) async throws
        -> CodeRedemption
    {
        try await transaction { connection, logger in
            // FOR UPDATE: of simultaneous exchanges the second waits here, then sees the first's redemption.
            guard
                let row = try await connection.rows(
                    """
                    SELECT id, client_id, username, redirect_uri, redirect_uri_named, scope, code_challenge, nonce,
                           auth_time, expires_at, redeemed_at, family_id
                    FROM authorization_codes WHERE code_sha256 = \(bytes(digest)) FOR UPDATE
                    """, logger: logger
                ).first
            else { return .unknown }
            let (id, owner, username, redirectURI, named, scope, challenge, nonce, authTime, expiresAt, redeemedAt,
                familyID) = try row.decode(
                    (Int64, String, String, String, Bool, String, String?, String?, Int64, Int64, Int64?, Int64?).self)
            guard owner.sameBytes(as: clientID) else { return .unknown }
            if redeemedAt != nil {
                try await connection.rows(
                    "UPDATE authorization_codes SET replayed_at = coalesce(replayed_at, \(now)) WHERE id = \(id)",
                    logger: logger)
                if let familyID { try await Self.revokeFamily(connection, logger: logger, familyID: familyID, now: now) }
                return .replayed
            }
            guard expiresAt > now else { return .expired }
            try await connection.rows("UPDATE authorization_codes SET redeemed_at = \(now) WHERE id = \(id)", logger: logger)
            return .redeemed(
                AuthorizationCodeGrantRecord(
                    clientID: owner, username: username, redirectURI: redirectURI, redirectURIWasNamed: named,
                    scope: scope, codeChallenge: challenge, nonce: nonce, authTime: authTime))
        }
    }

    func recordAuthorizationCodeFamily(digest: [UInt8], familyID: Int64, at now: EpochMilliseconds) async throws {
        try await transaction { connection, logger in
            let replayed = try await connection.rows(
                """
                UPDATE authorization_codes SET family_id = \(familyID) WHERE code_sha256 = \(bytes(digest))
                RETURNING replayed_at IS NOT NULL
                """, logger: logger
            ).first?.decode(Bool.self) ?? false
            if replayed { try await Self.revokeFamily(connection, logger: logger, familyID: familyID, now: now) }
        }
    }
}
