import Foundation
import GRDB
import TokenAuthority

extension SQLiteStore {
    func findToken(digest: [UInt8], preferring kind: TokenKind?) async throws -> FoundToken? {
        let order: [TokenKind] = kind == .refreshToken ? [.refreshToken, .accessToken] : [.accessToken, .refreshToken]
        // One statement per table: a token lives in one of them, so the two need not
        // share a read transaction.
        for kind in order {
            if let found = try await lookup({ db in try Self.find(db, digest: Data(digest), in: kind) }) { return found }
        }
        return nil
    }

    func revokeToken(digest: [UInt8], ownedBy clientID: String?, at now: EpochMilliseconds) async throws
        -> RevocationOutcome
    {
        try await durableWrite { db in
            let hash = Data(digest)
            guard let found = try Self.find(db, digest: hash, in: .accessToken) ?? Self.find(db, digest: hash, in: .refreshToken)
            else { return .nothingToRevoke }
            if let clientID, !found.clientID.sameBytes(as: clientID) { return .otherClient }
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

    private static func find(_ db: Database, digest: Data, in kind: TokenKind) throws -> FoundToken? {
        let table = kind == .accessToken ? "access_tokens" : "refresh_tokens"
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT client_id, subject_type, subject, scope, state, issued_at, expires_at
                        FROM \(table) WHERE token_sha256 = ?
                        """), arguments: [digest]),
            // By position, in the SELECT's order (as in `fetchActive`).
            let subject = Subject(kind: row[1], name: row[2]),
            let state = TokenState(rawValue: row[4])
        else { return nil }
        return FoundToken(
            kind: kind, clientID: row[0], subject: subject, scope: row[3], state: state, issuedAt: row[5],
            expiresAt: row[6])
    }
}
