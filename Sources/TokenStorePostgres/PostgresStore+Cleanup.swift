import Logging
import PostgresNIO
import TokenAuthority

/// Deletes the token rows nothing needs any more (docs/storage.md, "Cleanup"), with
/// the SQLite store's conditions: see `SQLiteStore.purgeTokens` for which rows go
/// and why a rotated refresh token stays while its family lives (RFC 9700 §4.14.2).
///
/// Only one instance purges at a time: the purge holds a session advisory lock on
/// one connection of its own for its whole run, and another instance's purge that
/// finds it taken returns zero rows at once (the work is being done). Each batch is
/// one DELETE of at most `batchSize` rows by primary key that checks the condition
/// again, so a row whose state changed since it was picked stays, and issuance
/// interleaves with a long purge.
extension PostgresStore {
    static let purgeBatchSize = 500

    func purgeTokens(now: EpochMilliseconds, retainFor: EpochMilliseconds, batchSize: Int) async throws
        -> TokenPurgeCount
    {
        let cutoff = now - max(0, retainFor)
        let batchSize = min(max(1, batchSize), Self.purgeBatchSize)
        let logger = logger
        return try await withConnection { connection in
            let locked = try await connection.rows("SELECT pg_try_advisory_lock(\(AdvisoryLock.purge))", logger: logger)
                .first?.decode(Bool.self) ?? false
            guard locked else { return TokenPurgeCount() }
            do {
                var count = TokenPurgeCount()
                // Access rows first: a refresh row goes only once no access row refers to it,
                // so the ON DELETE SET NULL foreign key never fires.
                count.accessTokens = try await Self.purge(
                    connection, logger: logger, table: .accessTokens, cutoff: cutoff, batchSize: batchSize)
                count.refreshTokens = try await Self.purge(
                    connection, logger: logger, table: .refreshTokens, cutoff: cutoff, batchSize: batchSize)
                count.sessions = try await Self.purge(
                    connection, logger: logger, table: .sessions, cutoff: cutoff, batchSize: batchSize)
                count.authorizationCodes = try await Self.purge(
                    connection, logger: logger, table: .authorizationCodes, cutoff: cutoff, batchSize: batchSize)
                count.deviceAuthorizations = try await Self.purge(
                    connection, logger: logger, table: .deviceAuthorizations, cutoff: cutoff, batchSize: batchSize)
                // Wrong user codes are counted per minute: older windows count for nothing.
                try await connection.rows(
                    "DELETE FROM device_user_code_failures WHERE window_start < \(cutoff)", logger: logger)
                try await connection.rows("SELECT pg_advisory_unlock(\(AdvisoryLock.purge))", logger: logger)
                return count
            } catch {
                // On a lost connection the server has released the lock already.
                _ = try? await connection.rows("SELECT pg_advisory_unlock(\(AdvisoryLock.purge))", logger: logger)
                throw error
            }
        }
    }

    private enum PurgedTable {
        case accessTokens, refreshTokens, sessions, authorizationCodes, deviceAuthorizations

        var name: String {
            switch self {
            case .accessTokens: "access_tokens"
            case .refreshTokens: "refresh_tokens"
            case .sessions: "sessions"
            case .authorizationCodes: "authorization_codes"
            case .deviceAuthorizations: "device_authorizations"
            }
        }

        /// `$1` is the cutoff. The refresh token of an access row is "gone" when
        /// `refresh_token_id` is NULL (client tokens, or set NULL by a deletion).
        var condition: String {
            switch self {
            case .accessTokens:
                """
                (CASE WHEN state = 'ACTIVE' THEN expires_at ELSE state_changed_at END) < $1
                AND NOT EXISTS (SELECT 1 FROM refresh_tokens r
                                WHERE r.id = access_tokens.refresh_token_id AND r.expires_at >= $1)
                """
            case .refreshTokens:
                """
                expires_at < $1
                AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.refresh_token_id = refresh_tokens.id)
                AND NOT (state = 'INACTIVE' AND EXISTS (
                    SELECT 1 FROM refresh_tokens f
                    WHERE f.family_id = refresh_tokens.family_id AND f.state = 'ACTIVE' AND f.expires_at >= $1))
                """
            case .sessions:
                // Ended (logout) or expired before the cutoff.
                "((ended_at IS NOT NULL AND ended_at < $1) OR expires_at < $1)"
            case .authorizationCodes, .deviceAuthorizations:
                // Expired before the cutoff: presented again after that, a code is only unknown.
                "expires_at < $1"
            }
        }
    }

    /// Deletes the rows of `table` matching its condition, in id order, one batch per
    /// statement. Returns how many it deleted. The SQL is made of the constants above
    /// only; every value is a bound parameter.
    private static func purge(
        _ connection: PostgresConnection, logger: Logger, table: PurgedTable, cutoff: EpochMilliseconds, batchSize: Int
    ) async throws -> Int {
        var deleted = 0
        var lastID: Int64 = 0
        while true {
            // A graceful shutdown stops between batches, never inside one.
            try Task.checkCancellation()
            var pick = PostgresBindings()
            pick.append(cutoff)
            pick.append(lastID)
            pick.append(batchSize)
            let ids = try await connection.rows(
                PostgresQuery(
                    unsafeSQL: "SELECT id FROM \(table.name) WHERE \(table.condition) AND id > $2 ORDER BY id LIMIT $3",
                    binds: pick), logger: logger
            ).map { try $0.decode(Int64.self) }
            guard let last = ids.last else { return deleted }
            lastID = last
            var delete = PostgresBindings()
            delete.append(cutoff)
            delete.append(ids)
            deleted += try await connection.rows(
                PostgresQuery(
                    unsafeSQL: "DELETE FROM \(table.name) WHERE id = ANY($2) AND \(table.condition) RETURNING 1",
                    binds: delete), logger: logger
            ).count
            if ids.count < batchSize { return deleted }
        }
    }
}
