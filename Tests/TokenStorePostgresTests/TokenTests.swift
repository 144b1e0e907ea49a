import PostgresNIO
import Testing
import TokenAuthority
import TokenAuthorityTesting

@testable import TokenStorePostgres

/// README, "How tokens behave", and docs/token-renewal.md, on the PostgreSQL store:
/// one ACTIVE token per key whatever the concurrency, reuse, refresh rotation and
/// replay, revocation. Rows are checked with SQL behind the store's back.
// Skipped unless TOKEN_AUTHORITY_TEST_POSTGRES_URL names a server (PostgresTestDatabase).
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, "needs TOKEN_AUTHORITY_TEST_POSTGRES_URL"))
struct PostgresTokenTests {
    typealias F = StoreFixture

    @Test func sixtyFourSimultaneousRenewalsForOneKeyAllSucceedAndLeaveOneActive() async throws {
        try await F.withStore { store, settings in
            // Given a client
            try await Fixtures.registerClient(in: store, id: "app")
            let key = F.clientKey()
            // When 64 renewal requests for its key arrive at once (more than the pool's connections)
            let tokens = try await withThrowingTaskGroup(of: StoredToken.self) { group in
                for _ in 0..<64 {
                    group.addTask { try await store.issue(F.pair(for: key), for: key, decide: F.renew(key)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Then every one succeeds with a token of its own
            #expect(tokens.count == 64)
            #expect(Set(tokens.map(\.accessTokenID)).count == 64)
            // And exactly one row is ACTIVE, the other 63 retired
            #expect(try await F.count("access_tokens", state: "ACTIVE", in: settings) == 1)
            #expect(try await F.count("access_tokens", state: "INACTIVE", in: settings) == 63)
            // And the reuse read sees that one
            let active = try await store.activeToken(for: key)
            #expect(active.map { tokens.map(\.accessTokenID).contains($0.accessTokenID) } == true)
        }
    }

    @Test func twoInstancesRenewingOneUserKeyLeaveOneActivePair() async throws {
        try await PostgresTestDatabase.withFreshDatabase { settings in
            // Given two instances (two stores, two pools) on one database
            let first = try await PostgresDatabase.open(settings, now: 0, logger: F.logger)
            let second = try await PostgresDatabase.open(settings, now: 0, logger: F.logger)
            try await Fixtures.registerClient(in: first, id: "app")
            try await Fixtures.registerUser(in: first, username: "alice", password: "pw")
            let key = F.userKey()
            // When 32 renewals with refresh tokens arrive at once, spread over both
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<32 {
                    let store = index.isMultiple(of: 2) ? first : second
                    group.addTask { _ = try await store.issue(F.pair(for: key), for: key, decide: F.renew(key)) }
                }
                try await group.waitForAll()
            }
            // Then one access token and one refresh token are ACTIVE
            #expect(try await F.count("access_tokens", state: "ACTIVE", in: settings) == 1)
            #expect(try await F.count("refresh_tokens", state: "ACTIVE", in: settings) == 1)
            try await first.close()
            try await second.close()
        }
    }

    @Test func reuseHandsBackTheSameTokenToEveryRequest() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            let key = F.clientKey()
            // When 16 reuse-mode requests arrive at once on a key with no token yet
            let tokens = try await withThrowingTaskGroup(of: StoredToken.self) { group in
                for _ in 0..<16 {
                    group.addTask { try await store.issue(F.pair(for: key), for: key, decide: F.reuse(key)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Then all get the very same token (its ciphertext too), and one row exists
            #expect(Set(tokens.map(\.accessTokenID)).count == 1)
            #expect(Set(tokens.map(\.accessCiphertext)).count == 1)
            #expect(try await store.activeToken(for: key) == tokens.first)
            #expect(try await PostgresTestDatabase.value(Int.self, "SELECT count(*) FROM access_tokens", on: settings) == 1)
        }
    }

    @Test func carryOverKeepsTheRefreshTokenRow() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let key = F.userKey()
            let first = try await store.issue(F.pair(for: key), for: key, decide: F.renew(key))
            // When a renewal carries the refresh token over
            let second = try await store.issue(F.pair(for: key, at: 2_000), for: key) { _ in
                .issue(retiring: .expired, refresh: .carryOver)
            }
            // Then the new access token shares the first one's refresh token, which stays ACTIVE
            #expect(second.refreshToken == first.refreshToken)
            #expect(try await F.state("access_tokens", id: first.accessTokenID, in: settings) == "EXPIRED")
            #expect(try await F.count("refresh_tokens", state: "ACTIVE", in: settings) == 1)
        }
    }

    // MARK: Refresh (RFC 6749 §6, RFC 9700 §4.14.2)

    /// The refresh grant's decision, reduced to what the store must carry out:
    /// an ACTIVE token rotates, a used (INACTIVE) one is a replay.
    static func rotateOrReplay(_ key: TokenKey) -> @Sendable (PresentedRefreshToken?) -> RefreshDecision {
        { presented in
            guard let presented else { return .refuse(.invalidGrant) }
            guard presented.state == .active else {
                return presented.state == .inactive ? .replay(familyID: presented.familyID) : .refuse(.invalidGrant)
            }
            let now: EpochMilliseconds = 5_000
            return .rotate(
                RefreshRotation(
                    key: key, access: F.sealed(), issuedAt: now, accessExpiresAt: now + F.hour,
                    refresh: .replace(F.sealed(), issuedAt: now, expiresAt: now + F.day)))
        }
    }

    @Test func aRefreshRotatesAndARotatedTokenPresentedAgainRevokesItsFamily() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let key = F.userKey()
            let pair = F.pair(for: key)
            let issued = try await store.issue(pair, for: key, decide: F.renew(key))
            let presented = try #require(pair.refresh?.digest)

            // When the refresh token is used
            let outcome = try await store.refresh(digest: presented, at: 5_000, decide: Self.rotateOrReplay(key))
            guard case .rotated(let rotated, _) = outcome else {
                Issue.record("expected a rotation, got \(outcome)")
                return
            }
            // Then a new pair of the same family is ACTIVE and the old pair is INACTIVE
            #expect(rotated.refreshToken?.familyID == issued.refreshToken?.familyID)
            #expect(try await F.state("access_tokens", id: issued.accessTokenID, in: settings) == "INACTIVE")
            #expect(try await F.state("refresh_tokens", id: try #require(issued.refreshToken?.id), in: settings) == "INACTIVE")
            #expect(try await F.state("access_tokens", id: rotated.accessTokenID, in: settings) == "ACTIVE")

            // When the rotated-away refresh token is presented again
            let replay = try await store.refresh(digest: presented, at: 6_000, decide: Self.rotateOrReplay(key))
            // Then it is a replay, and the family's ACTIVE tokens are REVOKED, committed before the answer
            #expect(replay == .replayed)
            #expect(try await F.state("access_tokens", id: rotated.accessTokenID, in: settings) == "REVOKED")
            #expect(try await F.state("refresh_tokens", id: try #require(rotated.refreshToken?.id), in: settings) == "REVOKED")
            #expect(try await F.count("access_tokens", state: "ACTIVE", in: settings) == 0)
            // And the rotated token stays INACTIVE, so presenting it once more is still a replay
            #expect(try await F.state("refresh_tokens", id: try #require(issued.refreshToken?.id), in: settings) == "INACTIVE")
        }
    }

    @Test func ofTwoSimultaneousRefreshesWithOneTokenOneRotatesAndTheOtherIsAReplay() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let key = F.userKey()
            let pair = F.pair(for: key)
            _ = try await store.issue(pair, for: key, decide: F.renew(key))
            let presented = try #require(pair.refresh?.digest)
            // When the same refresh token is presented twice at once
            let outcomes = try await withThrowingTaskGroup(of: RefreshOutcome.self) { group in
                for _ in 0..<2 {
                    group.addTask { try await store.refresh(digest: presented, at: 5_000, decide: Self.rotateOrReplay(key)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // Then one rotates and the other, seeing that rotation, is a replay that revokes the family
            #expect(outcomes.filter { if case .rotated = $0 { true } else { false } }.count == 1)
            #expect(outcomes.filter { $0 == .replayed }.count == 1)
            #expect(try await F.count("access_tokens", state: "ACTIVE", in: settings) == 0)
        }
    }

    @Test func aNarrowedRefreshRevokesThePairActiveOnTheNarrowerKey() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let wide = F.userKey(scope: ["read", "write"])
            let narrow = F.userKey(scope: ["read"])
            let pair = F.pair(for: wide)
            _ = try await store.issue(pair, for: wide, decide: F.renew(wide))
            let narrowOwn = try await store.issue(F.pair(for: narrow), for: narrow, decide: F.renew(narrow))
            // When the wide refresh token is refreshed down to the narrow scope
            let outcome = try await store.refresh(
                digest: try #require(pair.refresh?.digest), at: 5_000, decide: Self.rotateOrReplay(narrow))
            // Then the narrow key's own pair is REVOKED and the new one is its only ACTIVE token
            guard case .rotated(let rotated, let scope) = outcome else {
                Issue.record("expected a rotation, got \(outcome)")
                return
            }
            #expect(scope == narrow.scope)
            #expect(try await F.state("access_tokens", id: narrowOwn.accessTokenID, in: settings) == "REVOKED")
            #expect(try await F.state("refresh_tokens", id: try #require(narrowOwn.refreshToken?.id), in: settings) == "REVOKED")
            #expect(try await store.activeToken(for: narrow)?.accessTokenID == rotated.accessTokenID)
        }
    }

    // MARK: Revocation (RFC 7009)

    @Test func revokingAnAccessTokenRevokesItsRefreshTokenAndIsVisibleAtOnce() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerClient(in: store, id: "other")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let key = F.userKey()
            let pair = F.pair(for: key)
            let issued = try await store.issue(pair, for: key, decide: F.renew(key))
            // When another client asks to revoke it, it is refused unchanged
            #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "other", at: 2_000) == .otherClient)
            #expect(try await F.state("access_tokens", id: issued.accessTokenID, in: settings) == "ACTIVE")
            // When its own client revokes it
            #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "app", at: 2_000) == .revoked)
            // Then another connection sees both tokens REVOKED as soon as the call returns
            #expect(try await F.state("access_tokens", id: issued.accessTokenID, in: settings) == "REVOKED")
            #expect(try await F.state("refresh_tokens", id: try #require(issued.refreshToken?.id), in: settings) == "REVOKED")
            #expect(try await store.findToken(digest: pair.access.digest, preferring: nil)?.state == .revoked)
            // And revoking it again has nothing to do
            #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "app", at: 3_000) == .nothingToRevoke)
        }
    }

    @Test func revokingARefreshTokenRevokesItsAccessTokens() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            let key = F.userKey()
            let pair = F.pair(for: key)
            let issued = try await store.issue(pair, for: key, decide: F.renew(key))
            let refreshDigest = try #require(pair.refresh?.digest)
            #expect(try await store.findToken(digest: refreshDigest, preferring: .refreshToken)?.kind == .refreshToken)
            #expect(try await store.revokeToken(digest: refreshDigest, ownedBy: nil, at: 2_000) == .revoked)
            #expect(try await F.state("access_tokens", id: issued.accessTokenID, in: settings) == "REVOKED")
        }
    }

    @Test func deletingAUserOrAClientDeletesTheirTokens() async throws {
        try await F.withStore { store, settings in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerClient(in: store, id: "svc")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            _ = try await store.issue(F.pair(for: F.userKey()), for: F.userKey(), decide: F.renew(F.userKey()))
            _ = try await store.issue(F.pair(for: F.clientKey("svc")), for: F.clientKey("svc"), decide: F.renew(F.clientKey("svc")))
            // When the user is deleted, their tokens go (the trigger); when the client is, its tokens go
            #expect(try await store.deleteUser(named: "alice"))
            #expect(try await F.count("refresh_tokens", state: "ACTIVE", in: settings) == 0)
            #expect(try await F.count("access_tokens", state: "ACTIVE", in: settings) == 1)
            #expect(try await store.deleteClient(id: "svc"))
            #expect(try await PostgresTestDatabase.value(Int.self, "SELECT count(*) FROM access_tokens", on: settings) == 0)
            #expect(try await store.deleteClient(id: "svc") == false)
            // And duplicates are reported as such
            await #expect(throws: StoreError.alreadyExists("client app")) {
                try await Fixtures.registerClient(in: store, id: "app")
            }
        }
    }

    @Test func listingFiltersByClientUserAndState() async throws {
        try await F.withStore { store, _ in
            try await Fixtures.registerClient(in: store, id: "app")
            try await Fixtures.registerUser(in: store, username: "alice", password: "pw")
            _ = try await store.issue(F.pair(for: F.userKey()), for: F.userKey(), decide: F.renew(F.userKey()))
            _ = try await store.issue(F.pair(for: F.userKey()), for: F.userKey(), decide: F.renew(F.userKey()))
            _ = try await store.issue(F.pair(for: F.clientKey()), for: F.clientKey(), decide: F.renew(F.clientKey()))
            #expect(try await store.tokens(matching: TokenFilter()).count == 3)
            #expect(try await store.tokens(matching: TokenFilter(username: "alice")).count == 2)
            #expect(try await store.tokens(matching: TokenFilter(username: "alice", state: .active)).count == 1)
            #expect(try await store.tokens(matching: TokenFilter(clientID: "nobody")).isEmpty)
            let newestFirst = try await store.tokens(matching: TokenFilter(limit: 2)).map(\.id)
            #expect(newestFirst.count == 2 && newestFirst[0] > newestFirst[1])
        }
    }
}
