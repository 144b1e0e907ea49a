import Testing
import TokenAuthority

/// The decision table of docs/token-renewal.md, "Opaque access tokens", one row per case.
@Suite struct IssuancePolicyTests {
    static let now: EpochMilliseconds = 1_000_000_000
    static let hour: EpochMilliseconds = 3_600_000

    static func token(accessLeft: EpochMilliseconds, refreshLeft: EpochMilliseconds?) -> StoredToken {
        StoredToken(
            accessTokenID: 1, accessCiphertext: [], issuedAt: now - 10, expiresAt: now + accessLeft,
            refreshToken: refreshLeft.map {
                StoredRefreshToken(id: 2, ciphertext: [], issuedAt: now - 10, expiresAt: now + $0, familyID: 7)
            })
    }

    static func policy(renew: Bool = false, refresh: Bool = true) -> IssuancePolicy {
        IssuancePolicy(renewPerRequest: renew, issuesRefreshToken: refresh, accessTokenValidity: hour, now: now)
    }

    @Test func noActiveTokenIssuesANewPair() {
        #expect(Self.policy().decide(nil) == .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)))
        #expect(Self.policy(refresh: false).decide(nil) == .issue(retiring: .expired, refresh: .none))
    }

    @Test func liveTokenIsReused() {
        #expect(Self.policy().decide(Self.token(accessLeft: 1001, refreshLeft: 2 * Self.hour)) == .reuse)
        #expect(Self.policy(refresh: false).decide(Self.token(accessLeft: 1001, refreshLeft: nil)) == .reuse)
    }

    @Test func accessTokenWithOneSecondLeftCountsAsExpired() {
        let decision = Self.policy().decide(Self.token(accessLeft: 1000, refreshLeft: 2 * Self.hour))
        #expect(decision == .issue(retiring: .expired, refresh: .carryOver))
    }

    @Test func refreshTokenOutlivingANewAccessTokenIsCarriedOver() {
        let decision = Self.policy().decide(Self.token(accessLeft: -5, refreshLeft: Self.hour + 1))
        #expect(decision == .issue(retiring: .expired, refresh: .carryOver))
    }

    @Test func refreshTokenNotOutlivingANewAccessTokenIsReplaced() {
        let decision = Self.policy().decide(Self.token(accessLeft: -5, refreshLeft: Self.hour))
        #expect(decision == .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)))
    }

    @Test func refreshTokenWithOneSecondLeftMeansANewPairEvenWhenTheAccessTokenLives() {
        let decision = Self.policy().decide(Self.token(accessLeft: Self.hour, refreshLeft: 1000))
        #expect(decision == .issue(retiring: .expired, refresh: .issueNew(retiring: .expired)))
    }

    @Test func expiredApplicationTokenIsReplacedWithoutRefreshToken() {
        let decision = Self.policy(refresh: false).decide(Self.token(accessLeft: 0, refreshLeft: nil))
        #expect(decision == .issue(retiring: .expired, refresh: .none))
    }

    @Test func renewalModeRevokesTheLivePair() {
        let decision = Self.policy(renew: true).decide(Self.token(accessLeft: Self.hour, refreshLeft: 2 * Self.hour))
        #expect(decision == .issue(retiring: .revoked, refresh: .issueNew(retiring: .revoked)))
        let app = Self.policy(renew: true, refresh: false).decide(Self.token(accessLeft: Self.hour, refreshLeft: nil))
        #expect(app == .issue(retiring: .revoked, refresh: .none))
    }
}
