import Testing
import TokenAuthority
import TokenAuthorityTesting

/// Issue 5, `[security.source_limits]`: failures per source address in one-minute windows.
@Suite("Source failure limits")
struct SourceFailureLimiterTests {
    private func limiter(clientAuth: Int = 3, logins: Int = 2, clock: ManualClock) throws -> SourceFailureLimiter {
        var limits = SecuritySettings.SourceLimits()
        limits.failedClientAuthenticationsPerMinute = clientAuth
        limits.failedLoginsPerMinute = logins
        return try #require(SourceFailureLimiter(limits: limits, clock: clock.clock))
    }

    @Test("At the limit a source is refused until its window ends; other sources are not")
    func refusesUntilWindowEnds() throws {
        let clock = ManualClock()
        let limiter = try limiter(clock: clock)
        // Given 3 failed client authentications from one address, 20 s into its window
        limiter.record(.clientAuthentication, from: "192.0.2.1")
        clock.advance(seconds: 20)
        #expect(limiter.refusal(for: "192.0.2.1") == nil)
        limiter.record(.clientAuthentication, from: "192.0.2.1")
        limiter.record(.clientAuthentication, from: "192.0.2.1")

        // Then it is refused with 429 and the window's remaining 40 s
        let refusal = try #require(limiter.refusal(for: "192.0.2.1"))
        #expect(refusal.status == 429 && refusal.code == .tooManyRequests && refusal.retryAfter == 40)
        #expect(limiter.refusal(for: "192.0.2.2") == nil)

        // And once the window ends it may try again
        clock.advance(seconds: 40)
        #expect(limiter.refusal(for: "192.0.2.1") == nil)
    }

    @Test("Failed logins have their own limit")
    func loginLimit() throws {
        let clock = ManualClock()
        let limiter = try limiter(clock: clock)
        limiter.record(.login, from: "198.51.100.7")
        #expect(limiter.refusal(for: "198.51.100.7") == nil)
        limiter.record(.login, from: "198.51.100.7")
        #expect(limiter.refusal(for: "198.51.100.7")?.retryAfter == 60)
    }

    @Test("0 turns a limit off; both 0 is no limiter at all")
    func zeroIsOff() throws {
        let clock = ManualClock()
        let limiter = try limiter(clientAuth: 0, logins: 1, clock: clock)
        for _ in 0..<100 { limiter.record(.clientAuthentication, from: "203.0.113.9") }
        #expect(limiter.refusal(for: "203.0.113.9") == nil)
        var off = SecuritySettings.SourceLimits()
        off.failedClientAuthenticationsPerMinute = 0
        off.failedLoginsPerMinute = 0
        #expect(SourceFailureLimiter(limits: off, clock: clock.clock) == nil)
    }
}
