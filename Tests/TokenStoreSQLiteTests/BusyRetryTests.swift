import Testing
@testable import TokenStoreSQLite

/// SQLite's busy handler keeps `sqlite3_busy_timeout`'s schedule and its 30 s bound.
@Suite("Busy retries")
struct BusyRetryTests {
    @Test("The waits follow SQLite's delays, then 100 ms each")
    func schedule() {
        #expect(BusyRetry.waited(beforeTry: 0) == 0)
        #expect(BusyRetry.waited(beforeTry: 3) == 1 + 2 + 5)
        #expect(BusyRetry.waited(beforeTry: 12) == 328)
        #expect(BusyRetry.waited(beforeTry: 14) == 528)
    }

    @Test("Past the timeout it gives up at once, without sleeping")
    func givesUp() {
        let started = ContinuousClock.now
        #expect(!BusyRetry.shouldRetry(numberOfTries: 400, timeout: 30))
        #expect(!BusyRetry.shouldRetry(numberOfTries: 12, timeout: 0.3))
        #expect(BusyRetry.shouldRetry(numberOfTries: 0, timeout: 30))
        #expect(ContinuousClock.now - started < .seconds(1))
    }
}
