import Foundation
import Testing
import TokenAuthority

// Issuance, reuse, revocation and listing (docs/token-renewal.md, docs/storage.md).
extension StoreConformance {
    static let tokenChecks: [StoreCheck] = [
        StoreCheck("the database itself allows one ACTIVE token per key; other states may repeat") { fixture in
            try await fixture.issue(try fixture.newPair())
            // When a second ACTIVE row for the key is inserted behind the store's back, the unique
            // partial index refuses it: the invariant is the database's, not the process's
            let copy = { (state: String) in
                """
                INSERT INTO access_tokens (token_sha256, token_sealed, client_id, subject_type, subject, scope, state,
                    grant_type, issued_at, expires_at, refresh_token_id, state_changed_at)
                SELECT \(fixture.harness.randomBytes), token_sealed, client_id, subject_type, subject, scope, '\(state)',
                    grant_type, issued_at, expires_at, refresh_token_id, 0 FROM access_tokens
                """
            }
            await #expect(throws: (any Error).self) { try await fixture.harness.execute(copy("ACTIVE")) }
            try await fixture.harness.execute(copy("EXPIRED"))
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens") == 2)
        },
        StoreCheck("reuse hands back the ACTIVE row and writes nothing") { fixture in
            let first = try await fixture.issue(try fixture.newPair())
            let second = try await fixture.store.issue(try fixture.newPair(), for: fixture.key) { active in
                active == first ? .reuse : .issue(retiring: .revoked, refresh: .issueNew(retiring: .revoked))
            }
            #expect(second == first)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens") == 1)
            #expect(try await fixture.store.activeToken(for: fixture.key) == first)
        },
        StoreCheck("renewal retires the old pair and inserts the new one in one transaction") { fixture in
            let first = try await fixture.issue(try fixture.newPair())
            let second = try await fixture.issue(try fixture.newPair(at: 2000), retiring: .revoked)
            #expect(second.accessTokenID != first.accessTokenID)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'REVOKED'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 1)
            // What the issuance answered is the pair as stored: ids, times and refresh family
            #expect(try await fixture.store.activeToken(for: fixture.key) == second)
            #expect(
                try await fixture.count(
                    """
                    SELECT count(*) FROM access_tokens a JOIN refresh_tokens r ON r.id = a.refresh_token_id
                    WHERE a.state = 'ACTIVE' AND a.family_id = r.family_id
                    """) == 1)
        },
        StoreCheck("renew retires whatever pair is ACTIVE, without a decision, and says whether there was one") {
            fixture in
            // Given an empty key, renew inserts and retires nothing
            let first = try await fixture.store.renew(try fixture.newPair(), for: fixture.key, retiring: .revoked)
            #expect(!first.retired)
            // When it renews again
            let second = try await fixture.store.renew(
                try fixture.newPair(at: 2000), for: fixture.key, retiring: .revoked)
            // Then the first pair is REVOKED, the second ACTIVE and as answered
            #expect(second.retired)
            #expect(second.token.accessTokenID != first.token.accessTokenID)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'REVOKED'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 1)
            #expect(try await fixture.store.activeToken(for: fixture.key) == second.token)
        },
        StoreCheck("a carried-over refresh token keeps its row") { fixture in
            let first = try await fixture.issue(try fixture.newPair())
            let second = try await fixture.store.issue(try fixture.newPair(at: 2000), for: fixture.key) { _ in
                .issue(retiring: .expired, refresh: .carryOver)
            }
            #expect(second.refreshToken == first.refreshToken)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'EXPIRED'") == 1)
            #expect(try await fixture.store.activeToken(for: fixture.key) == second)
        },
        StoreCheck("revoking an access token revokes its refresh token; another client's is refused unchanged") { fixture in
            let pair = try fixture.newPair()
            try await fixture.issue(pair)
            let store = fixture.store
            #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "other", at: 5000) == .otherClient)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
            #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "app", at: 5000) == .revoked)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'") == 1)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'REVOKED'") == 1)
            #expect(try await store.findToken(digest: pair.access.digest, preferring: nil)?.state == .revoked)
            // A second revocation finds nothing ACTIVE, and an unknown token is nothing to revoke
            #expect(try await store.revokeToken(digest: pair.access.digest, ownedBy: "app", at: 6000) == .nothingToRevoke)
            #expect(try await store.revokeToken(digest: [0], ownedBy: nil, at: 6000) == .nothingToRevoke)
        },
        StoreCheck("revoking a refresh token revokes the access tokens issued with it") { fixture in
            let pair = try fixture.newPair()
            try await fixture.issue(pair)
            let refresh = try #require(pair.refresh)
            #expect(try await fixture.store.revokeToken(digest: refresh.digest, ownedBy: nil, at: 5000) == .revoked)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 0)
            let found = try await fixture.store.findToken(digest: refresh.digest, preferring: .refreshToken)
            #expect(found?.kind == .refreshToken && found?.state == .revoked)
        },
        StoreCheck("tokens are listed newest first, filtered by client, user and state") { fixture in
            try await fixture.issue(try fixture.newPair())
            try await fixture.issue(try fixture.newPair(at: 2000), retiring: .revoked)
            let store = fixture.store
            let all = try await store.tokens(matching: TokenFilter())
            #expect(all.count == 2 && all.first?.issuedAt == 2000)
            #expect(try await store.tokens(matching: TokenFilter(state: .revoked)).map(\.state) == [.revoked])
            #expect(try await store.tokens(matching: TokenFilter(username: "bob")).isEmpty)
            #expect(try await store.tokens(matching: TokenFilter(clientID: "app", username: "alice")).count == 2)
            #expect(try await store.tokens(matching: TokenFilter(limit: 1)).count == 1)
        },
        StoreCheck("the *_view views show times as ISO-8601") { fixture in
            try await fixture.issue(try fixture.newPair(at: 1_767_225_600_123))
            let shown = try await fixture.harness.strings("SELECT issued_at FROM access_tokens_view")
            #expect(shown == ["2026-01-01T00:00:00.123Z"])
        },
        StoreCheck("32 simultaneous reuse requests for one key over two handles: one token, one ACTIVE row") { fixture in
            let (tokens, active) = try await issueConcurrently(fixture, renew: false)
            #expect(tokens.count == concurrentRequests && Set(tokens).count == 1)
            #expect(active == 1)
        },
        StoreCheck("32 simultaneous renewal requests for one key over two handles: 32 tokens, one ACTIVE row") { fixture in
            let (tokens, active) = try await issueConcurrently(fixture, renew: true)
            #expect(tokens.count == concurrentRequests && Set(tokens).count == concurrentRequests)
            #expect(active == 1)
            let revoked = try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'REVOKED'")
            #expect(revoked == concurrentRequests - 1)
        },
    ]

    static let concurrentRequests = 32

    /// docs/token-renewal.md, "Concurrency": simultaneous client_credentials requests for
    /// one key through the real issuer, spread over this handle and a second one onto
    /// the same database, as two processes would.
    private static func issueConcurrently(_ fixture: StoreFixture, renew: Bool) async throws
        -> (tokens: [String], active: Int)
    {
        let other = try await fixture.harness.open()
        defer { Task { try? await other.close() } }
        let settings = OAuthSettings(renewAccessTokenPerRequest: renew)
        let minter = AccessTokenMinter(cipher: fixture.cipher, signer: nil)
        let issuers = [fixture.store, other].map {
            TokenIssuer(store: $0, cipher: fixture.cipher, minter: minter, settings: settings, clock: .system)
        }
        let key = TokenKey(clientID: "app", subject: .client("app"), scope: .default)
        let tokens = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<concurrentRequests {
                let issuer = issuers[index % issuers.count]
                group.addTask { try await issuer.issue(for: key, grantType: .clientCredentials).accessToken }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let active = try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'")
        return (tokens, active)
    }
}
