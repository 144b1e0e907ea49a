import GRDB
import TokenAuthority

// MARK: Cleanup

/// Deletes the token rows nothing needs any more (docs/storage.md, "Cleanup"), for the
/// background cleanup service and `token purge`.
///
/// With `cutoff = now - retain`, a row goes when it can never be presented,
/// returned or replayed again and it has been so for longer than `retain`:
///
/// - an access-token row that left ACTIVE before `cutoff`, or that is still
///   ACTIVE but expired before `cutoff`, and whose refresh token (if any) expired
///   before `cutoff` or is gone;
/// - a refresh-token row that expired before `cutoff` (whatever its state: an
///   ACTIVE one that far past its expiry can no longer be used, and would
///   otherwise stay forever when its user never comes back) and that no access
///   row references any more.
///
/// A rotated refresh token (INACTIVE) is kept until its own expiry plus `retain`,
/// and beyond that for as long as its family still has a usable refresh token:
/// presented at any time while the family lives, it must find its row and be
/// detected as a replay that revokes the family (RFC 9700 §4.14.2;
/// docs/storage.md, "Cleanup"). A refresh token that has not
/// expired is never deleted, and neither is an access row whose access or
/// refresh token can still be used.
///
/// The work is split into short transactions of at most `batchSize` rows. The
/// candidates are found on a reader connection (a scan that holds no lock), and
/// each batch is deleted by primary key in a write transaction of its own that
/// checks the condition again, so a row whose state changed in between stays.
/// The write lock is thus held for a few milliseconds at a time and issuance
/// interleaves with a long purge. Access rows go first: a refresh row is only
/// deleted once no access row refers to it, so the `ON DELETE SET NULL` foreign
/// key never fires (and never meets the CHECK that an ACTIVE user token has a
/// refresh token).
extension SQLiteStore {
    /// Rows per write transaction: short enough that a request queued behind one
    /// waits a few milliseconds, and within SQLite's 999 bound parameters.
    static let purgeBatchSize = 500

    /// Deletes the rows no longer needed at `now`, keeping everything that left
    /// use less than `retainFor` milliseconds ago.
    func purgeTokens(now: EpochMilliseconds, retainFor: EpochMilliseconds, batchSize: Int) async throws
        -> TokenPurgeCount
    {
        let cutoff = now - max(0, retainFor)
        let batchSize = min(max(1, batchSize), Self.purgeBatchSize)
        var count = TokenPurgeCount()
        count.accessTokens = try await purge(
            table: "access_tokens", where: Self.purgeableAccessToken, cutoff: cutoff, batchSize: batchSize)
        count.refreshTokens = try await purge(
            table: "refresh_tokens", where: Self.purgeableRefreshToken, cutoff: cutoff, batchSize: batchSize)
        count.sessions = try await purge(
            table: "sessions", where: Self.purgeableSession, cutoff: cutoff, batchSize: batchSize)
        count.authorizationCodes = try await purge(
            table: "authorization_codes", where: Self.purgeableCode, cutoff: cutoff, batchSize: batchSize)
        count.deviceAuthorizations = try await purge(
            table: "device_authorizations", where: Self.purgeableCode, cutoff: cutoff, batchSize: batchSize)
        // Wrong user codes are counted per minute: older windows count for nothing.
        try await write { db in
            try db.execute(sql: "DELETE FROM device_user_code_failures WHERE window_start < ?", arguments: [cutoff])
        }
        return count
    }

    /// A session ended (logout) or expired before the cutoff.
    static let purgeableSession = "(ended_at IS NOT NULL AND ended_at < ?) OR expires_at < ?"
    /// A code (an authorization code, a device request) expired before the cutoff: presented
    /// again after that, it is only unknown.
    static let purgeableCode = "expires_at < ?"

    /// Every `?` is the cutoff. The refresh token of an access row is "gone" when
    /// `refresh_token_id` is NULL (client tokens, or set NULL by a deletion).
    static let purgeableAccessToken = """
        (CASE WHEN state = 'ACTIVE' THEN expires_at ELSE state_changed_at END) < ?
        AND NOT EXISTS (SELECT 1 FROM refresh_tokens r WHERE r.id = refresh_token_id AND r.expires_at >= ?)
        """
    static let purgeableRefreshToken = """
        expires_at < ?
        AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.refresh_token_id = refresh_tokens.id)
        AND NOT (state = 'INACTIVE' AND EXISTS (
            SELECT 1 FROM refresh_tokens f
            WHERE f.family_id = refresh_tokens.family_id AND f.state = 'ACTIVE' AND f.expires_at >= ?))
        """

    /// Deletes the rows of `table` matching `condition`, in id order, one batch
    /// per transaction. Returns how many it deleted.
    private func purge(table: String, where condition: String, cutoff: EpochMilliseconds, batchSize: Int) async throws
        -> Int
    {
        let placeholders = condition.filter { $0 == "?" }.count
        let cutoffs = StatementArguments(Array(repeating: cutoff, count: placeholders))
        var deleted = 0
        var lastID: Int64 = 0
        while true {
            // A graceful shutdown stops between batches, never inside one.
            try Task.checkCancellation()
            let after = lastID
            let ids = try await lookup { db in
                try Int64.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT id FROM \(table) WHERE id > ? AND \(condition) ORDER BY id LIMIT \(batchSize)"),
                    arguments: [after] + cutoffs)
            }
            guard let last = ids.last else { return deleted }
            lastID = last
            deleted += try await write { db in
                try db.execute(
                    sql: "DELETE FROM \(table) WHERE id IN (\(databaseQuestionMarks(count: ids.count))) AND \(condition)",
                    arguments: StatementArguments(ids) + cutoffs)
                return db.changesCount
            }
            if ids.count < batchSize { return deleted }
        }
    }
}
