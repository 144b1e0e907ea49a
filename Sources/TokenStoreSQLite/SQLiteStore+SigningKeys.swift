import Foundation
import GRDB
import TokenAuthority

extension SQLiteStore {
    func currentSigningKeyID() async throws -> String? {
        try await lookup { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT kid FROM signing_keys WHERE retired_at IS NULL"))
        }
    }

    func publishedSigningKeys(at now: EpochMilliseconds) async throws -> [SigningKeyRecord] {
        try await lookup { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM signing_keys k
                        WHERE retired_at IS NULL OR publish_until > ?1
                           OR EXISTS (SELECT 1 FROM access_tokens a WHERE a.signing_key_id = k.kid AND a.expires_at > ?1)
                        ORDER BY retired_at IS NOT NULL, created_at DESC
                        """), arguments: [now]
            ).map(Self.signingKey)
        }
    }

    func signingKeys() async throws -> [SigningKeyRecord] {
        try await lookup { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at DESC, kid").map(Self.signingKey)
        }
    }

    func addFirstSigningKey(_ key: SigningKeyRecord) async throws -> String {
        try await durableWrite { db in
            if let current = try String.fetchOne(db, sql: "SELECT kid FROM signing_keys WHERE retired_at IS NULL") {
                return current
            }
            try Self.insert(db, key)
            return key.keyID
        }
    }

    func makeCurrentSigningKey(_ key: SigningKeyRecord, retiredPublishedUntil publishUntil: EpochMilliseconds)
        async throws
    {
        try await durableWrite { db in
            try db.execute(
                sql: """
                    UPDATE signing_keys SET retired_at = ?, publish_until = max(?, coalesce(publish_until, 0))
                    WHERE retired_at IS NULL AND kid <> ?
                    """, arguments: [key.createdAt, publishUntil, key.keyID])
            try db.execute(
                sql: "UPDATE signing_keys SET retired_at = NULL, publish_until = NULL WHERE kid = ?",
                arguments: [key.keyID])
            if db.changesCount == 0 { try Self.insert(db, key) }
        }
    }

    private static func insert(_ db: Database, _ key: SigningKeyRecord) throws {
        try db.execute(
            sql: """
                INSERT INTO signing_keys (kid, algorithm, private_key_sealed, public_jwk, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [key.keyID, key.algorithm, Data(key.privateKeySealed), key.publicJWK, key.createdAt])
    }

    private static func signingKey(_ row: Row) -> SigningKeyRecord {
        SigningKeyRecord(
            keyID: row["kid"], algorithm: row["algorithm"], privateKeySealed: [UInt8](row["private_key_sealed"] as Data),
            publicJWK: row["public_jwk"], createdAt: row["created_at"], retiredAt: row["retired_at"],
            publishUntil: row["publish_until"])
    }
}
