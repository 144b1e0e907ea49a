import Synchronization
import Testing
import TokenAuthority
import TokenAuthorityTesting

/// `[security.source_limits]` (README, "Abuse resistance"): failures per source address in
/// one-minute windows, and slots reserved before a check runs so a burst cannot pass the limit
/// and a burst of good credentials waits instead of being refused.
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

    @Test("A burst of bad credentials runs the limit's number of checks; the others wait for them and are refused once they fail")
    func reservationsBoundABurst() async throws {
        let clock = ManualClock()
        let limiter = try limiter(clientAuth: 60, logins: 30, clock: clock)
        let source = "192.0.2.9"
        // Given the limit's 30 login checks in flight from one address
        var inFlight: [SourceFailureLimiter.Reservation] = []
        for _ in 0..<30 { inFlight.append(try await limiter.reserve(.login, from: source)) }
        // When 170 more arrive at once, and then the 30 fail
        async let others = withTaskGroup(of: Int?.self) { group in
            for _ in 0..<170 {
                group.addTask {
                    do {
                        _ = try await limiter.reserve(.login, from: source)
                        return nil
                    } catch let error as OAuthError {
                        return error.retryAfter
                    } catch {
                        return -1
                    }
                }
            }
            return await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        for reservation in inFlight { limiter.settle(reservation, failed: true) }
        // Then none of the 170 got a slot: each was refused with the window's remaining minute
        let refusals = await others
        #expect(refusals.count == 170 && refusals.allSatisfy { $0 == 60 }, "\(refusals.filter { $0 != 60 })")
        // And client authentications have their own budget
        #expect((try? await limiter.reserve(.clientAuthentication, from: source)) != nil)
    }

    @Test("A burst of good credentials is queued, never refused: each success hands its slot to a waiting check")
    func successesHandSlotsOn() async throws {
        let limiter = try limiter(clientAuth: 2, logins: 0, clock: ManualClock())
        let source = "198.51.100.30"
        // Given both slots taken by checks in flight
        let first = try await limiter.reserve(.clientAuthentication, from: source)
        let second = try await limiter.reserve(.clientAuthentication, from: source)
        // When ten more checks arrive, and every check succeeds as it settles
        let settled = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    guard let reservation = try? await limiter.reserve(.clientAuthentication, from: source) else {
                        return false
                    }
                    limiter.settle(reservation, failed: false)
                    return true
                }
            }
            limiter.settle(first, failed: false)
            limiter.settle(second, failed: false)
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        // Then all ten ran, and the address is not limited
        #expect(settled == Array(repeating: true, count: 10))
        #expect(limiter.refusal(for: source) == nil)
    }

    @Test("A settled success gives its slot back; a settled failure keeps it for the window")
    func settling() async throws {
        let clock = ManualClock()
        let limiter = try limiter(clientAuth: 2, logins: 0, clock: clock)
        let source = "198.51.100.20"
        // Given two slots taken, and a third check waiting for one
        let first = try await limiter.reserve(.clientAuthentication, from: source)
        let second = try await limiter.reserve(.clientAuthentication, from: source)
        async let waiting = limiter.reserve(.clientAuthentication, from: source)

        // When one succeeds, its slot goes to the waiting check
        limiter.settle(first, failed: false)
        let third = try await waiting
        #expect(limiter.refusal(for: source) == nil)

        // When both others fail, the source is at its limit until the window ends
        limiter.settle(second, failed: true)
        limiter.settle(third, failed: true)
        #expect(limiter.refusal(for: source)?.retryAfter == 60)
        await #expect(throws: OAuthError.self) { try await limiter.reserve(.clientAuthentication, from: source) }
        clock.advance(seconds: 60)
        #expect(limiter.refusal(for: source) == nil)
        #expect((try? await limiter.reserve(.clientAuthentication, from: source)) != nil)
    }

    @Test("A limit of 0 gives every check a slot")
    func offLimitReservesNothing() async throws {
        let limiter = try limiter(clientAuth: 0, logins: 1, clock: ManualClock())
        for _ in 0..<100 {
            let reservation = try await limiter.reserve(.clientAuthentication, from: "203.0.113.1")
            limiter.settle(reservation, failed: true)
        }
        #expect(limiter.refusal(for: "203.0.113.1") == nil)
    }

    @Test("A gated check over the limit is never run; a check that throws is not counted as a failure")
    func gateRunsChecksInSlots() async throws {
        let clock = ManualClock()
        let limiter = try limiter(clientAuth: 0, logins: 2, clock: clock)
        let gate = CredentialCheckGate(limiter: limiter, source: "192.0.2.77")
        let runs = Counter()
        struct Unavailable: Error {}
        try await CredentialCheckGate.$current.withValue(gate) {
            // Given a check that throws (the database away): not a failure
            await #expect(throws: Unavailable.self) {
                try await CredentialCheckGate.run(.login, { () async throws -> Bool in throw Unavailable() }, failed: { !$0 })
            }
            // When three failing checks are asked for
            var answers: [Int] = []
            for _ in 0..<3 {
                do {
                    _ = try await CredentialCheckGate.run(.login, { runs.increment(); return false }, failed: { !$0 })
                    answers.append(200)
                } catch let error as OAuthError {
                    answers.append(error.status)
                }
            }
            // Then two ran and failed, the third was refused without running
            #expect(answers == [200, 200, 429])
            #expect(runs.value == 2)
        }
        // And outside a request no gate applies
        #expect(try await CredentialCheckGate.run(.login, { true }, failed: { !$0 }))
    }
}

/// Counts calls from a closure that must be `Sendable`.
private final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
