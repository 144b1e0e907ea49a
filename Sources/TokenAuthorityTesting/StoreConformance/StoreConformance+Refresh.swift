import Foundation
import Testing
import TokenAuthority

// Refresh rotation and replay detection (RFC 6749 §6, RFC 9700 §4.14.2).
extension StoreConformance {
    static let refreshChecks: [StoreCheck] = [
        StoreCheck("a refresh rotates the pair within the family; presenting the rotated token again revokes the family") {
            fixture in
            let store = fixture.store
            let pair = try fixture.newPair()
            try await fixture.issue(pair)
            let presented = try #require(pair.refresh)
            // When the refresh token is used
            let rotated = try await store.refresh(digest: presented.digest, at: 2000, decide: rotation(fixture))
            guard case .rotated(let token, let key, _) = rotated else {
                Issue.record("not rotated: \(rotated)")
                return
            }
            // Then the old pair left ACTIVE and the new one is ACTIVE, in the same family
            #expect(key == fixture.key)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
            #expect(try await fixture.harness.strings("SELECT state FROM refresh_tokens ORDER BY id") == ["INACTIVE", "ACTIVE"])
            #expect(try await store.activeToken(for: fixture.key) == token)
            #expect(try await fixture.count("SELECT count(DISTINCT family_id) FROM refresh_tokens") == 1)

            // When the rotated token is presented again
            let replayed = try await store.refresh(digest: presented.digest, at: 3000, decide: rotation(fixture))
            // Then it is a replay, and every token of the family is REVOKED
            #expect(replayed == .replayed)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 0)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE state = 'ACTIVE'") == 0)
            #expect(try await fixture.harness.strings("SELECT state FROM refresh_tokens ORDER BY id") == ["INACTIVE", "REVOKED"])
        },
        StoreCheck("revoking a refresh token rotated away revokes what its family has ACTIVE, and leaves it INACTIVE") { fixture in
            let store = fixture.store
            let pair = try fixture.newPair()
            try await fixture.issue(pair)
            let presented = try #require(pair.refresh)
            let rotated = try await store.refresh(digest: presented.digest, at: 2000, decide: rotation(fixture))
            guard case .rotated = rotated else {
                Issue.record("not rotated: \(rotated)")
                return
            }
            // Another client's revocation changes nothing
            #expect(try await store.revokeToken(digest: presented.digest, ownedBy: "other", at: 3000) == .otherClient)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
            // The owner's revokes the pair its rotation made
            #expect(try await store.revokeToken(digest: presented.digest, ownedBy: "app", at: 3000) == .revoked)
            #expect(try await fixture.harness.strings("SELECT state FROM refresh_tokens ORDER BY id") == ["INACTIVE", "REVOKED"])
            #expect(try await fixture.harness.strings("SELECT state FROM access_tokens ORDER BY id") == ["INACTIVE", "REVOKED"])
            // And once more, nothing is left to revoke
            #expect(try await store.revokeToken(digest: presented.digest, ownedBy: "app", at: 4000) == .nothingToRevoke)
        },
        StoreCheck("eight simultaneous refreshes with one token over two handles: one rotation, the rest replays") { fixture in
            let pair = try fixture.newPair()
            try await fixture.issue(pair)
            let presented = try #require(pair.refresh)
            let other = try await fixture.harness.open()
            defer { Task { try? await other.close() } }
            let stores: [any TokenDatabase] = [fixture.store, other]
            let outcomes = try await withThrowingTaskGroup(of: RefreshOutcome.self) { group in
                for index in 0..<8 {
                    let store = stores[index % 2]
                    let decide = try rotation(fixture)
                    group.addTask { try await store.refresh(digest: presented.digest, at: 2000, decide: decide) }
                }
                return try await group.reduce(into: [RefreshOutcome]()) { $0.append($1) }
            }
            let rotations = outcomes.filter { if case .rotated = $0 { true } else { false } }.count
            #expect(rotations == 1, "\(outcomes)")
            #expect(outcomes.filter { $0 == .replayed }.count == 7)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 0)
        },
        StoreCheck("a refresh narrowed to fewer scopes revokes the pair ACTIVE on the narrower key and takes its place") {
            fixture in
            // Given alice's pair on openid+profile, and another pair of hers on openid alone
            let store = fixture.store
            let wide = TokenKey(clientID: "app", subject: .user("alice"), scope: try ScopeSet(parsing: "openid profile"))
            let widePair = try fixture.newPair()
            _ = try await store.issue(widePair, for: wide) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
            let narrowOwn = try await fixture.issue(try fixture.newPair())
            // When the wide refresh token is refreshed down to openid (RFC 6749 §6)
            let outcome = try await store.refresh(
                digest: try #require(widePair.refresh).digest, at: 2000, decide: rotation(fixture, to: fixture.key))
            guard case .rotated(let rotated, let key, _) = outcome else {
                Issue.record("not rotated: \(outcome)")
                return
            }
            // Then the narrow key's own pair is REVOKED and the new pair is its only ACTIVE token
            #expect(key == fixture.key)
            #expect(
                try await fixture.harness.strings("SELECT state FROM access_tokens WHERE id = \(narrowOwn.accessTokenID)")
                    == ["REVOKED"])
            // And its refresh token with it
            let narrowRefresh = try #require(narrowOwn.refreshToken)
            #expect(
                try await fixture.harness.strings("SELECT state FROM refresh_tokens WHERE id = \(narrowRefresh.id)")
                    == ["REVOKED"])
            #expect(try await store.activeToken(for: fixture.key) == rotated)
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
        },
        StoreCheck("the time the user authenticated stays with a refresh token's line, rotated or kept") { fixture in
            // Given alice's pair from a grant she authenticated for at 900, and one of bob's without a time
            let store = fixture.store
            var pair = try fixture.newPair()
            pair.authTime = 900
            try await fixture.issue(pair)
            let bob = TokenKey(clientID: "app", subject: .user("bob"), scope: fixture.key.scope)
            let bobsPair = try fixture.newPair()
            _ = try await store.issue(bobsPair, for: bob) { _ in .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)) }
            // When alice's refresh token is rotated, and the new one is kept on its next refresh
            let firstAccess = try fixture.cipher.seal(TokenCipher.newToken())
            let secondAccess = try fixture.cipher.seal(TokenCipher.newToken())
            let next = try fixture.cipher.seal(TokenCipher.newToken())
            let rotated = try await store.refresh(digest: try #require(pair.refresh).digest, at: 2000) { _ in
                .rotate(
                    RefreshRotation(
                        key: fixture.key, access: firstAccess, issuedAt: 2000, accessExpiresAt: 3_602_000,
                        refresh: .replace(next, issuedAt: 2000, expiresAt: 86_402_000)))
            }
            let kept = try await store.refresh(digest: next.digest, at: 3000) { _ in
                .rotate(
                    RefreshRotation(
                        key: fixture.key, access: secondAccess, issuedAt: 3000, accessExpiresAt: 3_603_000, refresh: .keep))
            }
            let bobs = try await store.refresh(
                digest: try #require(bobsPair.refresh).digest, at: 2000, decide: rotation(fixture, to: bob))
            // Then both of alice's answers carry 900, the rotated row keeps it, and bob's has none
            for outcome in [rotated, kept] {
                guard case .rotated(_, _, let authTime) = outcome else {
                    Issue.record("not rotated: \(outcome)")
                    return
                }
                #expect(authTime == 900)
            }
            guard case .rotated(_, _, let bobsTime) = bobs else {
                Issue.record("not rotated: \(bobs)")
                return
            }
            #expect(bobsTime == nil)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE subject = 'alice' AND auth_time = 900") == 2)
            #expect(try await fixture.count("SELECT count(*) FROM refresh_tokens WHERE subject = 'bob' AND auth_time IS NULL") == 2)
        },
        StoreCheck("an unknown refresh token is refused and changes nothing") { fixture in
            try await fixture.issue(try fixture.newPair())
            let outcome = try await fixture.store.refresh(digest: Array(repeating: 1, count: 32), at: 2000) { row in
                row == nil ? .refuse(.invalidGrant) : .replay(familyID: 0)
            }
            #expect(outcome == .refused(.invalidGrant))
            #expect(try await fixture.count("SELECT count(*) FROM access_tokens WHERE state = 'ACTIVE'") == 1)
        },
    ]

    /// The refresh grant's decision, reduced to what the store sees: an ACTIVE token
    /// rotates into a new pair on `key` (alice's `openid` key unless narrowed); one that
    /// left ACTIVE is a replay of its family.
    private static func rotation(_ fixture: StoreFixture, to key: TokenKey? = nil) throws
        -> @Sendable (PresentedRefreshToken?) -> RefreshDecision
    {
        let access = try fixture.cipher.seal(TokenCipher.newToken())
        let refresh = try fixture.cipher.seal(TokenCipher.newToken())
        let key = key ?? fixture.key
        return { presented in
            guard let presented else { return .refuse(.invalidGrant) }
            guard presented.state == .active else { return .replay(familyID: presented.familyID) }
            return .rotate(
                RefreshRotation(
                    key: key, access: access, issuedAt: 2000, accessExpiresAt: 3_602_000,
                    refresh: .replace(refresh, issuedAt: 2000, expiresAt: 86_402_000)))
        }
    }
}
