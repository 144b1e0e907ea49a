import Foundation
import Testing
import TokenAuthority

// docs/storage.md, "Cleanup": which rows `purgeTokens` deletes, at an explicit `now`.
// Rows are written with SQL, so that every state and time can be set exactly.
extension StoreConformance {
    static let second: EpochMilliseconds = 1000
    static let day: EpochMilliseconds = 86_400_000
    /// The moment of the purges, and how long rows are kept after they left use.
    static let now: EpochMilliseconds = 1_767_225_600_000
    static let retain = day
    static var cutoff: EpochMilliseconds { now - retain }

    static let cleanupChecks: [StoreCheck] = [
        StoreCheck("cleanup: access rows go once retired or expired longer than retain ago, and their refresh token is dead too") {
            fixture in
            let rows = CleanupRows(fixture.harness)
            // Given client tokens (no refresh token) in every situation
            let expiredLongAgo = try await rows.access("EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 1)
            let revokedLongAgo = try await rows.access("REVOKED", expiresAt: now + 3600, stateChangedAt: cutoff - 1)
            let revokedRecently = try await rows.access("REVOKED", expiresAt: cutoff - 10, stateChangedAt: cutoff + 1)
            // (each ACTIVE row on a key, that is a scope, of its own: one ACTIVE row per key)
            let activeExpiredLongAgo = try await rows.access("ACTIVE", expiresAt: cutoff - 1, scope: "a")
            let activeExpiredRecently = try await rows.access("ACTIVE", expiresAt: cutoff + 1, scope: "b")
            let activeUsable = try await rows.access("ACTIVE", expiresAt: now + 3600, scope: "c")
            // And a user's row whose refresh token row is gone (refresh_token_id set NULL)
            let userRowWithoutRefresh = try await rows.access(
                "INACTIVE", expiresAt: now - 1, stateChangedAt: cutoff - 1, subjectType: "user")
            // When the rows are purged
            let deleted = try await fixture.store.purgeTokens(now: now, retainFor: retain)
            // Then exactly the rows retired or expired before now - retain are gone
            #expect(
                try await fixture.harness.ids("access_tokens") == [revokedRecently, activeExpiredRecently, activeUsable],
                "deleted: \([expiredLongAgo, revokedLongAgo, activeExpiredLongAgo, userRowWithoutRefresh])")
            #expect(deleted == TokenPurgeCount(accessTokens: 4, refreshTokens: 0))
        },
        StoreCheck("cleanup: a dead refresh token and its access rows go together") { fixture in
            let rows = CleanupRows(fixture.harness)
            let deadRefresh = try await rows.refresh("REVOKED", expiresAt: cutoff - 1, stateChangedAt: cutoff - 5)
            let deadAccess = try await rows.access(
                "REVOKED", expiresAt: cutoff - 5, stateChangedAt: cutoff - 5, refresh: deadRefresh)
            // And a user's ACTIVE pair, both expired before now - retain (never presented again)
            let abandonedRefresh = try await rows.refresh("ACTIVE", expiresAt: cutoff - 1)
            let abandonedAccess = try await rows.access("ACTIVE", expiresAt: cutoff - 2, refresh: abandonedRefresh)
            let deleted = try await fixture.store.purgeTokens(now: now, retainFor: retain)
            // Access rows go first, so the refresh rows are free to go in the same purge
            #expect(try await fixture.harness.ids("access_tokens").isDisjoint(with: [deadAccess, abandonedAccess]))
            #expect(try await fixture.harness.ids("refresh_tokens").isDisjoint(with: [deadRefresh, abandonedRefresh]))
            #expect(deleted == TokenPurgeCount(accessTokens: 2, refreshTokens: 2))
        },
        StoreCheck("cleanup: rows stay while their refresh token can still be used or replayed") { fixture in
            let rows = CleanupRows(fixture.harness)
            // An EXPIRED access row and the ACTIVE row that replaced it, sharing a live refresh token
            let carriedOver = try await rows.refresh("ACTIVE", expiresAt: now + day)
            let expiredAccess = try await rows.access(
                "EXPIRED", expiresAt: cutoff - 10, stateChangedAt: cutoff - 10, refresh: carriedOver)
            let activeAccess = try await rows.access("ACTIVE", expiresAt: cutoff - 5, refresh: carriedOver)
            // A rotated refresh token that expired less than `retain` ago, with its access row
            let rotated = try await rows.refresh("INACTIVE", expiresAt: cutoff + 1, stateChangedAt: cutoff - 10)
            let rotatedAccess = try await rows.access(
                "INACTIVE", expiresAt: cutoff - 10, stateChangedAt: cutoff - 10, refresh: rotated)
            // Unreferenced refresh tokens: revoked but unexpired, ACTIVE and unexpired, ACTIVE and recently expired
            let revokedUnexpired = try await rows.refresh("REVOKED", expiresAt: now + 1, stateChangedAt: cutoff - 10)
            let activeUnreferenced = try await rows.refresh("ACTIVE", expiresAt: now + 1)
            let activeExpiredRecently = try await rows.refresh("ACTIVE", expiresAt: cutoff + 1)
            let deleted = try await fixture.store.purgeTokens(now: now, retainFor: retain)
            #expect(deleted == TokenPurgeCount())
            #expect(try await fixture.harness.ids("access_tokens") == [expiredAccess, activeAccess, rotatedAccess])
            #expect(
                try await fixture.harness.ids("refresh_tokens")
                    == [carriedOver, rotated, revokedUnexpired, activeUnreferenced, activeExpiredRecently])
        },
        StoreCheck("cleanup: a rotated refresh token is kept until its own expiry plus retain") { fixture in
            let rows = CleanupRows(fixture.harness)
            let expiry = now + day
            let rotated = try await rows.refresh("INACTIVE", expiresAt: expiry, stateChangedAt: now - 30 * day)
            let access = try await rows.access(
                "INACTIVE", expiresAt: now - 29 * day, stateChangedAt: now - 30 * day, refresh: rotated)
            let rotatedAlone = try await rows.refresh("INACTIVE", expiresAt: expiry, stateChangedAt: now - 30 * day)
            for moment in [now, expiry, expiry + retain - 1, expiry + retain] {
                let deleted = try await fixture.store.purgeTokens(now: moment, retainFor: retain)
                // Presenting either token must still be detected as a replay
                #expect(deleted == TokenPurgeCount(), "at E + \(moment - expiry) ms")
            }
            #expect(try await fixture.harness.ids("refresh_tokens") == [rotated, rotatedAlone])
            #expect(try await fixture.harness.ids("access_tokens") == [access])
            let deleted = try await fixture.store.purgeTokens(now: expiry + retain + 1, retainFor: retain)
            #expect(deleted == TokenPurgeCount(accessTokens: 1, refreshTokens: 2))
        },
        StoreCheck("cleanup: a rotated refresh token is kept while its family lives") { fixture in
            let rows = CleanupRows(fixture.harness)
            let rotated = try await rows.refresh("INACTIVE", expiresAt: cutoff - day)
            let current = try await rows.refresh("ACTIVE", expiresAt: now + day)
            let orphan = try await rows.refresh("INACTIVE", expiresAt: cutoff - day)
            try await fixture.harness.execute("UPDATE refresh_tokens SET family_id = 1 WHERE id IN (\(rotated), \(current))")
            try await fixture.harness.execute("UPDATE refresh_tokens SET family_id = 2 WHERE id = \(orphan)")
            let deleted = try await fixture.store.purgeTokens(now: now, retainFor: retain)
            #expect(try await fixture.harness.ids("refresh_tokens") == [rotated, current])
            #expect(deleted == TokenPurgeCount(accessTokens: 0, refreshTokens: 1))
        },
        StoreCheck("cleanup: more rows than one batch all go, and two purges at once delete each row once") { fixture in
            let rows = CleanupRows(fixture.harness)
            for _ in 0..<120 {
                let refresh = try await rows.refresh("REVOKED", expiresAt: cutoff - 1, stateChangedAt: cutoff - 5)
                _ = try await rows.access("REVOKED", expiresAt: cutoff - 5, stateChangedAt: cutoff - 5, refresh: refresh)
            }
            let liveRefresh = try await rows.refresh("ACTIVE", expiresAt: now + day)
            let liveAccess = try await rows.access("ACTIVE", expiresAt: now + 3600, refresh: liveRefresh)
            let other = try await fixture.harness.open()
            defer { Task { try? await other.close() } }
            async let first = fixture.store.purgeTokens(now: now, retainFor: retain, batchSize: 50)
            async let second = other.purgeTokens(now: now, retainFor: retain, batchSize: 50)
            let total = try await first.total + second.total
            #expect(total == 240)
            #expect(try await fixture.harness.ids("access_tokens") == [liveAccess])
            #expect(try await fixture.harness.ids("refresh_tokens") == [liveRefresh])
        },
    ]
}

/// Token rows for the cleanup checks, of alice (with a refresh token) or the client `app`;
/// each refresh token the first of a family of its own.
struct CleanupRows {
    let harness: any StoreHarness

    init(_ harness: any StoreHarness) {
        self.harness = harness
    }

    func refresh(_ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil) async throws
        -> Int64
    {
        let issuedAt = expiresAt - StoreConformance.day
        return try await harness.insert(
            """
            INSERT INTO refresh_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                issued_at, expires_at, state_changed_at, family_id)
            VALUES (\(harness.randomBytes), \(harness.zeroByte), 'app', 'user', 'alice', 'openid', '\(state)',
                \(issuedAt), \(expiresAt), \(stateChangedAt ?? issuedAt), \(Int64.random(in: 1_000_000...Int64.max)))
            """)
    }

    func access(
        _ state: String, expiresAt: EpochMilliseconds, stateChangedAt: EpochMilliseconds? = nil, refresh: Int64? = nil,
        subjectType: String? = nil, scope: String = "openid"
    ) async throws -> Int64 {
        let subjectType = subjectType ?? (refresh == nil ? "client" : "user")
        let issuedAt = expiresAt - 3600 * StoreConformance.second
        return try await harness.insert(
            """
            INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
            VALUES (\(harness.randomBytes), \(harness.zeroByte), 'app', '\(subjectType)',
                '\(subjectType == "user" ? "alice" : "app")', '\(scope)', '\(state)', 'password', \(issuedAt),
                \(expiresAt), \(refresh.map(String.init) ?? "NULL"), \(stateChangedAt ?? issuedAt))
            """)
    }
}
