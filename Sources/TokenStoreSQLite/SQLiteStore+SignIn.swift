import Foundation
import GRDB
import TokenAuthority

// Sessions and authorization codes (docs/browser-sign-in.md).
extension SQLiteStore {
    func createSession(_ session: NewSession) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO sessions (session_sha256, username, auth_time, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [Data(session.digest), session.username, session.authTime, session.createdAt, session.expiresAt])
        }
    }

    func liveSession(digest: [UInt8], at now: EpochMilliseconds) async throws -> SessionRecord? {
        try await lookup { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT username, auth_time, expires_at FROM sessions
                        WHERE session_sha256 = ? AND ended_at IS NULL AND expires_at > ?
                        """),
                arguments: [Data(digest), now]
            ).map { SessionRecord(username: $0["username"], authTime: $0["auth_time"], expiresAt: $0["expires_at"]) }
        }
    }

    func endSession(digest: [UInt8], at now: EpochMilliseconds) async throws -> Bool {
        try await durableWrite { db in
            try db.execute(
                sql: "UPDATE sessions SET ended_at = ? WHERE session_sha256 = ? AND ended_at IS NULL AND expires_at > ?",
                arguments: [now, Data(digest), now])
            return db.changesCount > 0
        }
    }

    func createAuthorizationCode(_ code: NewAuthorizationCode) async throws {
        let grant = code.grant
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO authorization_codes (code_sha256, client_id, username, redirect_uri, redirect_uri_named,
                                                     scope, code_challenge, nonce, auth_time, issued_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(code.digest), grant.clientID, grant.username, grant.redirectURI, grant.redirectURIWasNamed,
                    grant.scope, grant.codeChallenge, grant.nonce, grant.authTime, code.issuedAt, code.expiresAt,
                ])
        }
    }

    func redeemAuthorizationCode(digest: [UInt8], clientID: String, at now: EpochMilliseconds) async throws
        -> CodeRedemption
    {
        // Durable: a redemption forgotten in a power cut would let the code be used again.
        try await durableWrite { db in
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT * FROM authorization_codes WHERE code_sha256 = ?"),
                    arguments: [Data(digest)]),
                (row["client_id"] as String).sameBytes(as: clientID)
            else { return .unknown }
            let id: Int64 = row["id"]
            if (row["redeemed_at"] as Int64?) != nil {
                try db.execute(
                    sql: "UPDATE authorization_codes SET replayed_at = coalesce(replayed_at, ?) WHERE id = ?",
                    arguments: [now, id])
                if let familyID: Int64 = row["family_id"] { try Self.revokeFamily(db, familyID: familyID, now: now) }
                return .replayed
            }
            guard (row["expires_at"] as Int64) > now else { return .expired }
            try db.execute(sql: "UPDATE authorization_codes SET redeemed_at = ? WHERE id = ?", arguments: [now, id])
            return .redeemed(
                AuthorizationCodeGrantRecord(
                    clientID: row["client_id"], username: row["username"], redirectURI: row["redirect_uri"],
                    redirectURIWasNamed: row["redirect_uri_named"], scope: row["scope"],
                    codeChallenge: row["code_challenge"], nonce: row["nonce"], authTime: row["auth_time"]))
        }
    }

    func recordAuthorizationCodeFamily(digest: [UInt8], familyID: Int64, at now: EpochMilliseconds) async throws {
        try await durableWrite { db in
            try db.execute(
                sql: "UPDATE authorization_codes SET family_id = ? WHERE code_sha256 = ?",
                arguments: [familyID, Data(digest)])
            let replayed = try Int64.fetchOne(
                db, sql: "SELECT replayed_at FROM authorization_codes WHERE code_sha256 = ?", arguments: [Data(digest)])
            if replayed != nil { try Self.revokeFamily(db, familyID: familyID, now: now) }
        }
    }
}
