import Testing
import TokenAuthority

/// docs/token-renewal.md, "The refresh grant", and RFC 9700 §4.14.2, one row per case.
@Suite struct RefreshPolicyTests {
    static let now: EpochMilliseconds = 10_000_000
    static let access = SealedToken(digest: [1], ciphertext: [1])
    static let refresh = SealedToken(digest: [2], ciphertext: [2])

    static func presented(
        state: TokenState = .active, client: String = "app", scope: String = "a b", expiresIn: EpochMilliseconds = 60_000
    ) -> PresentedRefreshToken {
        PresentedRefreshToken(
            id: 5, clientID: client, subject: .user("alice"), scope: try! ScopeSet(parsing: scope), state: state,
            issuedAt: now - 1000, expiresAt: now + expiresIn, familyID: 77)
    }

    static func policy(
        scope: String? = nil, renew: Bool = true, extend: Bool = true
    ) -> RefreshPolicy {
        RefreshPolicy(
            clientID: "app", requestedScope: scope.map { try! ScopeSet(parsing: $0) },
            settings: OAuthSettings(
                renewRefreshToken: renew, extendRefreshTokenExpiryTimeOnRenewal: extend, userAccessTokenValidity: 600,
                refreshTokenValidity: 86400),
            now: now, newAccess: access, newRefresh: refresh)
    }

    @Test func unknownOrAnotherClientsTokenIsInvalidGrantAndChangesNothing() {
        #expect(Self.policy().decide(nil) == .refuse(RefreshPolicy.invalidRefreshToken))
        #expect(Self.policy().decide(Self.presented(client: "other")) == .refuse(RefreshPolicy.invalidRefreshToken))
    }

    @Test func rotatedAwayTokenIsAReplayOfItsFamily() {
        #expect(Self.policy().decide(Self.presented(state: .inactive)) == .replay(familyID: 77))
    }

    @Test func revokedAndExpiredTokensAreRefused() {
        #expect(Self.policy().decide(Self.presented(state: .revoked)) == .refuse(RefreshPolicy.invalidRefreshToken))
        #expect(Self.policy().decide(Self.presented(state: .expired)) == .refuse(RefreshPolicy.expiredRefreshToken))
        #expect(Self.policy().decide(Self.presented(expiresIn: 1000)) == .refuse(RefreshPolicy.expiredRefreshToken))
        #expect(RefreshPolicy.expiredRefreshToken.errorDescription == "Refresh token is expired.")
    }

    @Test func noScopeKeepsTheOriginalAndRotationGetsAFreshValidity() throws {
        guard case .rotate(let rotation) = Self.policy().decide(Self.presented()) else {
            Issue.record("expected a rotation")
            return
        }
        #expect(rotation.key == TokenKey(clientID: "app", subject: .user("alice"), scope: try ScopeSet(parsing: "a b")))
        #expect(rotation.accessExpiresAt == Self.now + 600_000)
        #expect(rotation.refresh == .replace(Self.refresh, issuedAt: Self.now, expiresAt: Self.now + 86_400_000))
    }

    @Test func rotationWithNoNewRefreshTokenPreparedIsAServerErrorNotAKeep() {
        var policy = Self.policy()
        policy.newRefresh = nil
        #expect(policy.decide(Self.presented()) == .refuse(OAuthError.serverError))
    }

    @Test func withoutExtensionTheNewRefreshTokenKeepsTheOldTimes() {
        guard case .rotate(let rotation) = Self.policy(extend: false).decide(Self.presented()) else {
            Issue.record("expected a rotation")
            return
        }
        #expect(rotation.refresh == .replace(Self.refresh, issuedAt: Self.now - 1000, expiresAt: Self.now + 60_000))
    }

    @Test func withoutRenewalTheRefreshTokenIsKept() {
        guard case .rotate(let rotation) = Self.policy(renew: false).decide(Self.presented()) else {
            Issue.record("expected a rotation")
            return
        }
        #expect(rotation.refresh == .keep)
    }

    @Test func aSubsetNarrowsTheKeyAndAnythingElseIsInvalidScope() throws {
        guard case .rotate(let rotation) = Self.policy(scope: "b").decide(Self.presented()) else {
            Issue.record("expected a rotation")
            return
        }
        #expect(rotation.key.scope == (try ScopeSet(parsing: "b")))
        guard case .refuse(let error) = Self.policy(scope: "a c").decide(Self.presented()) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(error.code == .invalidScope)
    }

    @Test func aDeviceScopeKeepsTheDevicesKey() throws {
        guard case .rotate(let rotation) = Self.policy().decide(Self.presented(scope: "device_ipad openid")) else {
            Issue.record("expected a rotation")
            return
        }
        #expect(rotation.key.scope.description == "device_ipad openid")
    }
}
