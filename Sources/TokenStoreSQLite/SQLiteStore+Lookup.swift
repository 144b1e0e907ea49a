import Foundation
import GRDB
import TokenAuthority

extension SQLiteStore {
    func findToken(digest: [UInt8], preferring kind: TokenKind?) async throws -> FoundToken? {
        let order: [TokenKind] = kind == .refreshToken ? [.refreshToken, .accessToken] : [.accessToken, .refreshToken]
        // One statement per table: a token lives in one of them, so the two need not
        // share a read transaction.
        for kind in order {
            let found = try await foundTokens.value(for: TokenDigestKey(kind: kind, digest: digest)) {
                try await lookup { db in try Self.find(db, digest: digest, in: kind) }
            }
            if let found { return found }
        }
        return nil
    }

    func revokeToken(digest: [UInt8], ownedBy clientID: String?, at now: EpochMilliseconds) async throws
        -> RevocationOutcome
    {
        try await durableWrite { db in
            let hash = Data(digest)
            guard let found = try Self.find(db, digest: digest, in: .accessToken) ?? Self.find(db, digest: digest, in: .refreshToken)
            else { return .nothingToRevoke }
            if let clientID, !found.clientID.sameBytes(as: clientID) { return .otherClient }
            if found.kind == .refreshToken, found.state == .inactive {
                guard
                    let familyID = try Int64.fetchOne(
                        db, sql: "SELECT family_id FROM refresh_tokens WHERE token_sha256 = ?", arguments: [hash]),
                    try Self.revokeFamily(db, familyID: familyID, now: now) > 0
                else { return .nothingToRevoke }
                return .revoked
            }
            guard found.state == .active else { return .nothingToRevoke }
            switch found.kind {
            case .accessToken:
                // The access token, and the refresh token issued with it.
                try db.execute(
                    sql: """
                        UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = ?
                        WHERE state = 'ACTIVE' AND id = (SELECT refresh_token_id FROM access_tokens WHERE token_sha256 = ?)
                        """, arguments: [now, hash])
                try db.execute(
                    sql: "UPDATE access_tokens SET state = 'REVOKED', state_changed_at = ? WHERE token_sha256 = ?",
                    arguments: [now, hash])
            case .refreshToken:
                // The refresh token, and the access tokens issued with it.
                try db.execute(
                    sql: """
                        UPDATE access_tokens SET state = 'REVOKED', state_changed_at = ?
                        WHERE state = 'ACTIVE' AND refresh_token_id = (SELECT id FROM refresh_tokens WHERE token_sha256 = ?)
                        """, arguments: [now, hash])
                try db.execute(
                    sql: "UPDATE refresh_tokens SET state = 'REVOKED', state_changed_at = ? WHERE token_sha256 = ?",
                    arguments: [now, hash])
            }
            return .revoked
        }
    }

    private static func find(_ db: Database, digest: [UInt8], in kind: TokenKind) throws -> FoundToken? {
        let table = kind == .accessToken ? "access_tokens" : "refresh_tokens"
        // SQLite's own API, as in `fetchActive`: introspection and revocation take this path.
        let statement = RawStatement(
            try db.cachedStatement(
                sql: """
                    SELECT client_id, subject_type, subject, scope, state, issued_at, expires_at
                    FROM \(table) WHERE token_sha256 = ?
                    """), in: db)
        try statement.bind(digest, at: 1)
        guard try statement.step(),
            let subject = Subject(kind: statement.text(1), name: statement.text(2)),
            let state = TokenState(rawValue: statement.text(4))
        else { return nil }
        return FoundToken(
            kind: kind, clientID: statement.text(0), subject: subject, scope: statement.text(3), state: state,
            issuedAt: statement.int64(5), expiresAt: statement.int64(6))
    }
}
