import Logging
import PostgresNIO
import TokenAuthority

extension PostgresStore {
    func currentSigningKeyID() async throws -> String? {
        try await rows("SELECT kid FROM signing_keys WHERE retired_at IS NULL").first?.decode(String.self)
    }

    func publishedSigningKeys(at now: EpochMilliseconds) async throws -> [SigningKeyRecord] {
        try await rows(
            """
            SELECT kid, algorithm, private_key_sealed, public_jwk, created_at, retired_at, publish_until
            FROM signing_keys k
            WHERE retired_at IS NULL OR publish_until > \(now)
               OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.signing_key_id = k.kid AND a.expires_at > \(now))
            ORDER BY retired_at IS NOT NULL, created_at DESC
            """
        ).map(Self.signingKey)
    }

    func signingKeys() async throws -> [SigningKeyRecord] {
        try await rows(
            """
            SELECT kid, algorithm, private_key_sealed, public_jwk, created_at, retired_at, publish_until
            FROM signing_keys ORDER BY created_at DESC, kid COLLATE "C"
            """
        ).map(Self.signingKey)
    }

    func addFirstSigningKey(_ key: SigningKeyRecord) async throws -> String {
        // Instances starting at once all find no key and insert theirs: the unique
        // index signing_keys_one_current lets one commit, the others run again and
        // return the winner's id. Durable: every instance signs with it at once.
        try await transaction(retryingUniqueViolations: true) { connection, logger in
            if let current = try await connection.rows(
                "SELECT kid FROM signing_keys WHERE retired_at IS NULL", logger: logger
            ).first {
                return try current.decode(String.self)
            }
            try await Self.insert(connection, logger: logger, key)
            return key.keyID
        }
    }

    func makeCurrentSigningKey(_ key: SigningKeyRecord, retiredPublishedUntil publishUntil: EpochMilliseconds)
        async throws
    {
        // Two rotations at once: the second waits on the current key's row, finds it
        // retired, and its insert meets the first's new key in the unique index: it
        // runs again and retires that one in turn.
        try await transaction(retryingUniqueViolations: true) { connection, logger in
            try await connection.rows(
                """
                UPDATE signing_keys SET retired_at = \(key.createdAt),
                    publish_until = greatest(\(publishUntil), coalesce(publish_until, 0))
                WHERE retired_at IS NULL AND kid <> \(key.keyID)
                """, logger: logger)
            let revived = try await connection.rows(
                "UPDATE signing_keys SET retired_at = NULL, publish_until = NULL WHERE kid = \(key.keyID) RETURNING 1",
                logger: logger)
            if revived.isEmpty { try await Self.insert(connection, logger: logger, key) }
        }
    }

    private static func insert(_ connection: PostgresConnection, logger: Logger, _ key: SigningKeyRecord) async throws {
        try await connection.rows(
            """
            INSERT INTO signing_keys (kid, algorithm, private_key_sealed, public_jwk, created_at)
            VALUES (\(key.keyID), \(key.algorithm), \(bytes(key.privateKeySealed)), \(key.publicJWK), \(key.createdAt))
            """, logger: logger)
    }

    private static func signingKey(_ row: PostgresRow) throws -> SigningKeyRecord {
        let (kid, algorithm, sealed, publicJWK, createdAt, retiredAt, publishUntil) = try row.decode(
            (String, String, ByteBuffer, String, Int64, Int64?, Int64?).self)
        return SigningKeyRecord(
            keyID: kid, algorithm: algorithm, privateKeySealed: sealed.byteArray, publicJWK: publicJWK,
            createdAt: createdAt, retiredAt: retiredAt, publishUntil: publishUntil)
    }
}
